-- Each region-hour's actual demand next to its forecast.
SELECT
    h.region,
    h.hour,
    h.actual_kwh,
    CAST(f.predicted_kwh AS DOUBLE) AS predicted_kwh,
    h.actual_kwh - f.predicted_kwh AS error_kwh,
    abs(h.actual_kwh - f.predicted_kwh) / nullif(h.actual_kwh, 0) AS abs_pct_error
FROM hourly_demand AS h
JOIN forecast AS f
  ON f.region = h.region AND CAST(f.hour AS TIMESTAMP) = h.hour
ORDER BY h.region, h.hour
