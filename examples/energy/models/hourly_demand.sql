-- Actual demand per region and hour.
SELECT
    m.region,
    date_trunc('hour', r.read_at) AS hour,
    SUM(r.kwh) AS actual_kwh,
    COUNT(*) AS readings
FROM stg_readings AS r
JOIN stg_meters AS m USING (meter_id)
GROUP BY ALL
