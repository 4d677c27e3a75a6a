"""Viewing time per contract and category, active days, last active day and the most-watched
category; logs of unknown apps are dropped. The Polars form of examples/medallion/silver.sql."""

import polars as pl

# App → category.
CATEGORIES = {
    "CHANNEL": "TV",
    "DSHD": "TV",
    "KPLUS": "TV",
    "VOD": "Movie",
    "FIMS": "Movie",
    "BHD": "Movie",
    "DANET": "Movie",
    "CHILD": "Child",
    "RELAX": "Relax",
    "SPORT": "Sport",
}
# Ties in viewing time go to the first category in this order.
ORDER = ["TV", "Movie", "Child", "Relax", "Sport"]


def most_watched() -> pl.Expr:
    cols = {c: pl.col(f"{c.lower()}_duration") for c in ORDER}
    pick = pl.lit("Sport")
    # Built from the last choice outwards: each category wins over every later one it ties.
    for i in range(len(ORDER) - 2, -1, -1):
        c = ORDER[i]
        beats_rest = pl.all_horizontal([cols[c] >= cols[o] for o in ORDER[i + 1 :]])
        pick = pl.when(beats_rest).then(pl.lit(c)).otherwise(pick)
    return pick.alias("most_watched")


def run(bronze: pl.LazyFrame) -> pl.LazyFrame:
    known = bronze.select(
        pl.col("Contract").alias("contract"),
        "date",
        pl.col("TotalDuration").alias("duration"),
        pl.col("AppName").replace_strict(CATEGORIES, default=None).alias("category"),
    ).filter(pl.col("category").is_not_null())
    per_contract = known.group_by("contract").agg(
        *[pl.col("duration").filter(pl.col("category") == c).sum().alias(f"{c.lower()}_duration") for c in ORDER],
        pl.col("duration").sum().alias("total_duration"),
        pl.col("date").n_unique().alias("active_days"),
        pl.col("date").max().alias("last_active"),
    )
    return per_contract.with_columns(most_watched()).sort("contract")
