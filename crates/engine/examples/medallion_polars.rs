//! Baseline for the medallion benchmark: the same bronze → silver → gold transformations written
//! by hand as one Polars program (no artifacts, no metadata), as an Airflow + Polars user would.
//!
//! Usage: medallion_polars LOGS_DIR RUN_DATE OUT.parquet

use std::sync::Arc;

use polars::prelude::*;
use polars::sql::SQLContext;

const SILVER_SQL: &str = include_str!("../../../examples/medallion/silver.sql");

fn main() -> PolarsResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let (logs, run_date, out) = (&args[1], &args[2], &args[3]);
    let run_date = chrono::NaiveDate::parse_from_str(run_date, "%Y-%m-%d").expect("RUN_DATE is YYYY-MM-DD");
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let run_day = (run_date - epoch).num_days() as i32;

    // Bronze: one scan per day file with the date from its name, nested `_source` flattened.
    let mut files: Vec<_> =
        std::fs::read_dir(logs)?.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    files.sort();
    let mut frames = Vec::new();
    for f in &files {
        let stem = f.file_stem().unwrap().to_string_lossy();
        let date = chrono::NaiveDate::parse_from_str(&stem, "%Y%m%d").expect("day file named YYYYMMDD.json");
        let lf = LazyJsonLineReader::new(PlRefPath::try_from_path(f)?)
            .with_infer_schema_length(std::num::NonZeroUsize::new(10_000))
            .finish()?;
        frames.push(lf.unnest(by_name(["_source"], true, false), None).with_column(lit(date).alias("date")));
    }
    let bronze =
        concat_lf_diagonal(frames, UnionArgs { parallel: true, rechunk: false, to_supertypes: true, ..Default::default() })?;

    // Silver: the same SQL as the pipeline.
    let mut ctx = SQLContext::new();
    ctx.register("bronze", bronze);
    let silver = ctx.execute(SILVER_SQL)?.collect_with_engine(Engine::Streaming)?.unwrap_single();

    // Gold: RFM with NTILE(4) semantics (Polars SQL has no NTILE), ties broken by contract.
    let n = silver.height() as i64;
    let ntile = |metric: &str, descending: bool, name: &str| -> PolarsResult<LazyFrame> {
        let (size, large) = (n / 4, n % 4);
        let small_start = large * (size + 1);
        let pos = col("pos").cast(DataType::Int64);
        Ok(silver
            .clone()
            .lazy()
            .with_column(
                if metric == "recency" {
                    (lit(run_day) - col("last_active").cast(DataType::Int32)).cast(DataType::Int64)
                } else {
                    col(metric).cast(DataType::Int64)
                }
                .alias("metric"),
            )
            .sort_by_exprs(
                [col("metric"), col("contract")],
                SortMultipleOptions::default().with_order_descending_multi([descending, false]),
            )
            .with_row_index("pos", None)
            .select([
                col("contract"),
                when(pos.clone().lt(lit(small_start)))
                    .then(pos.clone() / lit(size + 1) + lit(1i64))
                    .otherwise(lit(1 + large) + (pos - lit(small_start)) / lit(size.max(1)))
                    .cast(DataType::Int32)
                    .alias(name),
            ]))
    };
    let gold = silver
        .clone()
        .lazy()
        .select([
            col("contract"),
            col("most_watched"),
            (lit(run_day) - col("last_active").cast(DataType::Int32)).cast(DataType::Int64).alias("recency"),
            col("active_days").cast(DataType::Int64).alias("frequency"),
            col("total_duration").cast(DataType::Int64).alias("monetary"),
        ])
        .join(ntile("recency", true, "r_score")?, [col("contract")], [col("contract")], JoinArgs::new(JoinType::Inner))
        .join(ntile("active_days", false, "f_score")?, [col("contract")], [col("contract")], JoinArgs::new(JoinType::Inner))
        .join(ntile("total_duration", false, "m_score")?, [col("contract")], [col("contract")], JoinArgs::new(JoinType::Inner))
        .with_column(
            when(col("r_score").gt_eq(3).and(col("f_score").gt_eq(3)).and(col("m_score").gt_eq(3)))
                .then(lit("Champions"))
                .when(col("r_score").gt_eq(3).and(col("f_score").gt_eq(3)))
                .then(lit("Loyal"))
                .when(col("r_score").gt_eq(3))
                .then(lit("Promising"))
                .when(col("f_score").gt_eq(3).or(col("m_score").gt_eq(3)))
                .then(lit("At Risk"))
                .otherwise(lit("Hibernating"))
                .alias("segment"),
        )
        .sort(["contract"], Default::default());
    gold.sink(
        SinkDestination::File { target: SinkTarget::Path(PlRefPath::try_from_path(std::path::Path::new(out))?) },
        FileWriteFormat::Parquet(Arc::new(ParquetWriteOptions::default())),
        UnifiedSinkArgs { mkdir: true, ..Default::default() },
    )?
    .collect_with_engine(Engine::Streaming)?;
    println!("gold rows: {n}");
    Ok(())
}
