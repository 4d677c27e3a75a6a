"""The medallion workload as one lazy Polars query, as a Polars user would write it; the same
transformations as crates/engine/examples/medallion_polars.rs, run on the streaming engine.

Usage: medallion_polars.py LOGS_DIR RUN_DATE OUT.parquet   (bronze → silver → gold → Parquet)
       medallion_polars.py --bronze LOGS_DIR OUT.parquet   (the NDJSON reader alone → Parquet)
"""
import datetime
import os
import sys

import polars as pl

CATEGORY = {"CHANNEL": "TV", "DSHD": "TV", "KPLUS": "TV", "VOD": "Movie", "FIMS": "Movie",
            "BHD": "Movie", "DANET": "Movie", "CHILD": "Child", "RELAX": "Relax", "SPORT": "Sport"}
CATEGORIES = ["TV", "Movie", "Child", "Relax", "Sport"]  # most_watched ties go to the first


def bronze(logs: str) -> pl.LazyFrame:
    # `_source` unnested and the day from the file name, as Polder's source task does.
    return (
        pl.scan_ndjson(os.path.join(logs, "*.json"), include_file_paths="path")
        .unnest("_source")
        .with_columns(pl.col("path").str.extract(r"(\d{8})\.json$").str.to_date("%Y%m%d").alias("date"))
        .drop("path")
    )


def ntile4(lf: pl.LazyFrame, metric: str, descending: bool, name: str) -> pl.LazyFrame:
    # SQL's NTILE(4) OVER (ORDER BY metric, contract) (Polars has none): the first n % 4 tiles
    # get one row more; ties in the metric are broken by contract, as in gold.sql.
    n, pos = pl.len(), pl.int_range(pl.len())
    size, large = n // 4, n % 4
    small_start = large * (size + 1)
    tile = (
        pl.when(pos < small_start)
        .then(pos // (size + 1) + 1)
        .otherwise(1 + large + (pos - small_start) // pl.max_horizontal(size, 1))
    )
    return lf.sort([metric, "contract"], descending=[descending, False]).with_columns(tile.cast(pl.Int32).alias(name))


def main() -> None:
    if sys.argv[1] == "--bronze":
        # LZ4 like Polder's bronze artifact, so the rows compare the readers, not the codecs.
        bronze(sys.argv[2]).sink_parquet(sys.argv[3], compression="lz4", engine="streaming")
        return
    logs, run_date, out = sys.argv[1:4]
    run_date = datetime.date.fromisoformat(run_date)
    dur, cat = pl.col("duration"), pl.col("category")
    silver = (
        bronze(logs)
        .select(
            pl.col("Contract").alias("contract"),
            "date",
            pl.col("TotalDuration").alias("duration"),
            pl.col("AppName").replace_strict(CATEGORY, default=None).alias("category"),
        )
        .filter(cat.is_not_null())
        .group_by("contract")
        .agg(
            *[pl.when(cat == c).then(dur).otherwise(0).sum().alias(c) for c in CATEGORIES],
            dur.sum().alias("monetary"),
            pl.col("date").n_unique().cast(pl.Int64).alias("frequency"),
            pl.col("date").max().alias("last_active"),
        )
    )
    # The first category whose time is >= every later one's (silver.sql's CASE).
    most = pl.lit("Sport")
    for i in reversed(range(len(CATEGORIES) - 1)):
        c = CATEGORIES[i]
        most = pl.when(pl.all_horizontal([pl.col(c) >= pl.col(o) for o in CATEGORIES[i + 1:]])).then(pl.lit(c)).otherwise(most)
    rfm = silver.select(
        "contract",
        most.alias("most_watched"),
        (pl.lit(run_date) - pl.col("last_active")).dt.total_days().cast(pl.Int64).alias("recency"),
        "frequency",
        pl.col("monetary").cast(pl.Int64),
    )
    scored = ntile4(ntile4(ntile4(rfm, "recency", True, "r_score"), "frequency", False, "f_score"), "monetary", False, "m_score")
    r, f, m = pl.col("r_score"), pl.col("f_score"), pl.col("m_score")
    gold = scored.with_columns(
        pl.concat_str(r.cast(pl.String), f.cast(pl.String), m.cast(pl.String)).alias("rfm_code"),
        pl.when((r >= 3) & (f >= 3) & (m >= 3)).then(pl.lit("Champions"))
        .when((r >= 3) & (f >= 3)).then(pl.lit("Loyal"))
        .when(r >= 3).then(pl.lit("Promising"))
        .when((f >= 3) | (m >= 3)).then(pl.lit("At Risk"))
        .otherwise(pl.lit("Hibernating"))
        .alias("segment"),
    ).sort("contract")
    gold.sink_parquet(out, engine="streaming")


if __name__ == "__main__":
    main()
