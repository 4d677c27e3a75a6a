//! Polder's engine: the pipeline format, the task DAG, task kinds on Polars and DuckDB, the
//! executor, artifacts and run metadata. The CLI and the runner server are thin layers over it.
//!
//! A pipeline is a folder with `pipeline.toml` and `.sql` files ([`spec`]). [`executor::run_pipeline`]
//! runs it inside a [`Workspace`], whose `.polder/` folder keeps every task's output as an
//! immutable Parquet artifact, the task logs, and the run metadata in SQLite ([`store`]).

pub mod clickhouse;
pub mod connections;
pub mod contract;
pub mod dag;
pub mod datafile;
pub mod duckdb_files;
pub mod duckdb_raw;
pub mod error;
pub mod executor;
pub mod fsutil;
pub mod gc;
pub mod ingest;
pub mod inspect;
pub mod isolate;
pub mod memory;
pub mod owners;
pub mod params;
pub mod paths;
pub mod plancheck;
pub mod polars_sql;
pub mod postgres;
pub mod preview;
pub mod python;
pub mod s3;
pub mod secrets;
pub mod spec;
pub mod sqlerror;
pub mod sqlrefs;
pub mod store;
pub mod tasks;
pub mod workspace;

pub use error::{Error, Result, SpecError};
pub use executor::{run_pipeline, RunCancel, RunEvent, RunOptions, RunSummary, TaskSummary};
pub use spec::{load, Pipeline};
pub use store::{RunStatus, TaskStatus};
pub use workspace::Workspace;
