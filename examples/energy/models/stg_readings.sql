-- Clean readings: drop missing and negative values (meter faults).
SELECT
    meter_id,
    CAST(read_at AS TIMESTAMP) AS read_at,
    CAST(kwh AS DOUBLE) AS kwh
FROM readings
WHERE kwh IS NOT NULL AND kwh >= 0
