-- One row per event, typed; events without a user are dropped.
SELECT
    day,
    CAST(ts AS TIMESTAMP) AS ts,
    "user" AS user_id,
    event,
    COALESCE(amount, 0.0) AS amount,
    os,
    country
FROM bronze
WHERE "user" IS NOT NULL
