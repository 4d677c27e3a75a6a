-- Viewing time per contract and category (pivoted), active days, last active day,
-- and the most-watched category. Logs of unknown apps are dropped.
WITH categorized AS (
    SELECT
        Contract AS contract,
        date,
        TotalDuration AS duration,
        CASE
            WHEN AppName IN ('CHANNEL', 'DSHD', 'KPLUS') THEN 'TV'
            WHEN AppName IN ('VOD', 'FIMS', 'BHD', 'DANET') THEN 'Movie'
            WHEN AppName = 'CHILD' THEN 'Child'
            WHEN AppName = 'RELAX' THEN 'Relax'
            WHEN AppName = 'SPORT' THEN 'Sport'
        END AS category
    FROM bronze
),
known AS (
    SELECT * FROM categorized WHERE category IS NOT NULL
),
per_contract AS (
    SELECT
        contract,
        SUM(CASE WHEN category = 'TV' THEN duration ELSE 0 END) AS tv_duration,
        SUM(CASE WHEN category = 'Movie' THEN duration ELSE 0 END) AS movie_duration,
        SUM(CASE WHEN category = 'Child' THEN duration ELSE 0 END) AS child_duration,
        SUM(CASE WHEN category = 'Relax' THEN duration ELSE 0 END) AS relax_duration,
        SUM(CASE WHEN category = 'Sport' THEN duration ELSE 0 END) AS sport_duration,
        SUM(duration) AS total_duration,
        COUNT(DISTINCT date) AS active_days,
        MAX(date) AS last_active
    FROM known
    GROUP BY contract
)
SELECT
    *,
    -- ties go to the first category in this order
    CASE
        WHEN tv_duration >= movie_duration AND tv_duration >= child_duration
             AND tv_duration >= relax_duration AND tv_duration >= sport_duration THEN 'TV'
        WHEN movie_duration >= child_duration AND movie_duration >= relax_duration
             AND movie_duration >= sport_duration THEN 'Movie'
        WHEN child_duration >= relax_duration AND child_duration >= sport_duration THEN 'Child'
        WHEN relax_duration >= sport_duration THEN 'Relax'
        ELSE 'Sport'
    END AS most_watched
FROM per_contract
ORDER BY contract
