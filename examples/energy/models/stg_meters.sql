SELECT meter_id, upper(region) AS region, kind
FROM meters
