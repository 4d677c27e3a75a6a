//! Engine integration tests: one binary (each extra test binary is another multi-GB link).

mod clickhouse;
mod common;
mod duckdb_writers;
mod edit;
mod energy;
mod engines;
mod failures;
mod gc;
mod holes;
mod ingest;
mod lakehouse;
mod medallion;
mod ndjson;
mod postgres;
mod python;
mod s3;
mod semantics;
mod sources;
mod spec_errors;
mod tpch;
mod views;
