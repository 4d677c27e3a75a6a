//! `polder gen`: writes an example's data set.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use polder_datagen::{energy, medallion};

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
    };
    println!("wrote {} rows in {} files in {:.1}s", summary.rows, summary.files.len(), started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}
