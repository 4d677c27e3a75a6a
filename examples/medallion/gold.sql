-- RFM per contract: recency (days since last active, at run_date), frequency (active days),
-- monetary (total viewing seconds); each scored 1-4 by quartile (4 = best), then a segment.
-- Ties in a metric are broken by contract so scores are deterministic.
WITH rfm AS (
    SELECT
        contract,
        most_watched,
        CAST(date_diff('day', last_active, DATE '{{ run_date }}') AS BIGINT) AS recency,
        CAST(active_days AS BIGINT) AS frequency,
        CAST(total_duration AS BIGINT) AS monetary
    FROM silver
),
scored AS (
    SELECT
        *,
        CAST(NTILE(4) OVER (ORDER BY recency DESC, contract) AS INTEGER) AS r_score,
        CAST(NTILE(4) OVER (ORDER BY frequency, contract) AS INTEGER) AS f_score,
        CAST(NTILE(4) OVER (ORDER BY monetary, contract) AS INTEGER) AS m_score
    FROM rfm
)
SELECT
    contract,
    most_watched,
    recency,
    frequency,
    monetary,
    r_score,
    f_score,
    m_score,
    CAST(r_score AS VARCHAR) || CAST(f_score AS VARCHAR) || CAST(m_score AS VARCHAR) AS rfm_code,
    CASE
        WHEN r_score >= 3 AND f_score >= 3 AND m_score >= 3 THEN 'Champions'
        WHEN r_score >= 3 AND f_score >= 3 THEN 'Loyal'
        WHEN r_score >= 3 THEN 'Promising'
        WHEN f_score >= 3 OR m_score >= 3 THEN 'At Risk'
        ELSE 'Hibernating'
    END AS segment
FROM scored
ORDER BY contract
