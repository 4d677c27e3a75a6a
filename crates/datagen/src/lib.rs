//! Deterministic data generators for Polder's example pipelines.
//!
//! - [`medallion`]: telecom TV viewing logs, one NDJSON file per day (`YYYYMMDD.json`).
//! - [`energy`]: smart-meter readings and per-region demand forecasts (`meters.csv`,
//!   `readings.csv`, `forecast.csv`).
//! - [`sales`]: a retail sales table over several files, as columns (written as Parquet by the CLI).
//!
//! Every generator is a pure function of its config: the same config (seed included) gives
//! byte-identical files on every run and platform. Randomness comes from PCG generators seeded
//! from the config seed, and only integer operations, `+`, `*`, `/` and rounding touch floats
//! (no `ln`/`exp`/`sin`, whose last bit may vary between math libraries). The in-memory
//! iterators ([`medallion::records`], [`energy::readings`], …) yield exactly the data that the
//! `write` functions put in the files, so tests can recompute expected results from them.
//!
//! Files are written atomically (temp file in the same folder, fsync, rename).

#![warn(missing_docs)]

pub mod energy;
pub mod medallion;
mod rng;
pub mod sales;
mod write;

use std::path::PathBuf;

/// What a `write` call produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenSummary {
    /// The data files written, in generation order.
    pub files: Vec<PathBuf>,
    /// Data rows written over all files (CSV headers not counted).
    pub rows: usize,
}

/// Failures of the generators.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file or folder failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done ("cannot write", "cannot create folder", …).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The config cannot be generated (e.g. rows but zero days).
    #[error("invalid generator config: {0}")]
    InvalidConfig(String),
}

impl Error {
    /// Wraps an I/O error with what was being done and on which path.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { action, path: path.into(), source }
    }
}
