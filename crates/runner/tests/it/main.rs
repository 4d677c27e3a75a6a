//! Runner tests over real HTTP on 127.0.0.1: one binary (each extra one is another big link).

mod api;
mod auth;
mod authoring;
mod connections;
mod deploy;
mod history;
mod holes;
mod http;
mod ingest;
mod python;
mod restart;
mod schedule;
mod ui;
mod workbench;
