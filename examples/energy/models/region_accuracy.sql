-- Forecast accuracy per region: MAPE and bias, in percent.
SELECT
    region,
    COUNT(*) AS hours,
    SUM(actual_kwh) AS actual_kwh,
    SUM(predicted_kwh) AS predicted_kwh,
    AVG(abs_pct_error) * 100 AS mape_pct,
    SUM(error_kwh) / SUM(predicted_kwh) * 100 AS bias_pct
FROM demand_vs_forecast
GROUP BY region
ORDER BY region
