//! `polder gen`: writes an example's data set.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use polder_datagen::{energy, medallion, sales};
use polder_engine::datafile::{self, Values};

/// Arguments of `polder gen`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    which: Which,
}

#[derive(clap::Subcommand)]
enum Which {
    /// Telecom viewing logs (NDJSON, one file per day) for examples/medallion.
    Medallion {
        /// Output folder for the day files.
        #[arg(long, default_value = "examples/medallion/data/logs")]
        out: PathBuf,
        /// Total rows.
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Days (one file each).
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Random seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Smart-meter readings, meters and forecasts (CSV) for examples/energy.
    Energy {
        /// Output folder.
        #[arg(long, default_value = "examples/energy/data")]
        out: PathBuf,
        /// Number of meters.
        #[arg(long, default_value_t = 200)]
        meters: usize,
        /// Days of 15-minute readings.
        #[arg(long, default_value_t = 14)]
        days: u32,
        /// Random seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// A retail sales table as a folder of Parquet files, for examples/parquet_to_postgres.
    Sales {
        /// Output folder for the files.
        #[arg(long, default_value = "examples/parquet_to_postgres/data/sales")]
        out: PathBuf,
        /// Total rows.
        #[arg(long, default_value_t = 2_000_000)]
        rows: usize,
        /// Files to split them over.
        #[arg(long, default_value_t = 8)]
        files: usize,
        /// Days the sales span (ending 2024-06-30).
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// Random seed.
        #[arg(long, default_value_t = 11)]
        seed: u64,
    },
}

/// Writes the sales files into `out`; what was written.
pub fn write_sales(cfg: &sales::SalesConfig, out: &std::path::Path) -> Result<polder_datagen::GenSummary> {
    let mut summary = polder_datagen::GenSummary { files: Vec::new(), rows: 0 };
    for f in sales::files(cfg) {
        let path = out.join(&f.name);
        summary.rows += datafile::write_parquet(
            &path,
            vec![
                ("id", Values::I64(f.id)),
                ("product", Values::Text(f.product)),
                ("store", Values::I32(f.store)),
                ("qty", Values::I32(f.qty)),
                ("price", Values::Decimal { unscaled: f.price_cents, precision: 10, scale: 2 }),
                ("sold_at", Values::DatetimeMicros(f.sold_at_us)),
                ("day", Values::Date(f.day)),
            ],
        )?;
        summary.files.push(path);
    }
    Ok(summary)
}

/// Generates the chosen data set.
pub fn run(args: Args) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let summary = match args.which {
        Which::Medallion { out, rows, days, seed } => {
            let mut cfg = medallion::MedallionConfig::with_rows(rows);
            cfg.days = days;
            cfg.seed = seed;
            medallion::write(&cfg, &out)?
        }
        Which::Energy { out, meters, days, seed } => {
            let mut cfg = energy::EnergyConfig::small();
            cfg.meters = meters;
            cfg.days = days;
            cfg.seed = seed;
            energy::write(&cfg, &out)?
        }
        Which::Sales { out, rows, files, days, seed } => write_sales(&sales::SalesConfig { rows, files, days, seed }, &out)?,
    };
    println!("wrote {} rows in {} files in {:.1}s", summary.rows, summary.files.len(), started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}
