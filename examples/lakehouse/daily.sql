-- Daily activity and revenue per country.
SELECT
    day,
    country,
    COUNT(*) AS events,
    COUNT(DISTINCT user_id) AS users,
    SUM(CASE WHEN event = 'purchase' THEN 1 ELSE 0 END) AS purchases,
    ROUND(SUM(amount), 2) AS revenue
FROM silver
GROUP BY day, country
ORDER BY day, country
