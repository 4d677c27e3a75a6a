//! The pipeline model: what `pipeline.toml` describes, as typed values.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Location;

/// Which SQL engine runs a `sql` task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqlEngine {
    /// Polars' SQL over lazy frames (the default).
    Polars,
    /// An in-memory DuckDB over the upstream artifacts.
    DuckDb,
}

/// The `engine` setting of a pipeline or SQL task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EngineChoice {
    /// Polars where the query is known to give DuckDB's answer on it, else DuckDB (the default).
    #[default]
    Auto,
    /// Always Polars; queries Polars would answer differently are refused at load time.
    Polars,
    /// Always DuckDB.
    DuckDb,
}

impl EngineChoice {
    /// The name used in `pipeline.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            EngineChoice::Auto => "auto",
            EngineChoice::Polars => "polars",
            EngineChoice::DuckDb => "duckdb",
        }
    }

    /// Parses `auto`, `polars` or `duckdb`.
    pub fn parse(s: &str) -> Option<EngineChoice> {
        match s {
            "auto" => Some(EngineChoice::Auto),
            "polars" => Some(EngineChoice::Polars),
            "duckdb" => Some(EngineChoice::DuckDb),
            _ => None,
        }
    }
}

impl SqlEngine {
    /// The name used in `pipeline.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            SqlEngine::Polars => "polars",
            SqlEngine::DuckDb => "duckdb",
        }
    }
}

/// What happens to a run interrupted by a crash or kill of the process running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnInterrupt {
    /// The run stays failed ("interrupted").
    Fail,
    /// A runner starts a new run with the same parameters; finished tasks reuse their outputs.
    Resume,
}

/// A loaded pipeline: its folder, settings and tasks in file order.
#[derive(Debug, Clone, Serialize)]
pub struct Pipeline {
    /// The pipeline's folder (holds `pipeline.toml` and its `.sql` files).
    pub dir: PathBuf,
    /// Unique name; keys run metadata and artifacts.
    pub name: String,
    /// Free text shown in listings.
    pub description: Option<String>,
    /// Cron expression for the runner server's scheduler.
    pub schedule: Option<String>,
    /// Datasets whose flushes start a run (`[trigger] on_dataset`).
    pub on_dataset: Vec<String>,
    /// Default SQL engine setting for `sql` tasks.
    pub engine: EngineChoice,
    /// How many tasks may run at once (None: the number of cores).
    pub max_parallel: Option<usize>,
    /// What a runner does with a run interrupted by a crash: fail it, or resume it.
    pub on_interrupt: OnInterrupt,
    /// IANA time zone the schedule is evaluated in (None: the runner's, UTC by default).
    pub timezone: Option<String>,
    /// Most runs of this pipeline a runner executes at once; more wait in its queue.
    pub max_active_runs: usize,
    /// Declared parameters (type, default), in file order.
    pub params: Vec<crate::params::ParamSpec>,
    /// The tasks, in file order.
    pub tasks: Vec<Task>,
    /// Where relative sink paths are written (None: the pipeline folder). A runner sets it for
    /// deployed versions, whose folders are immutable and replaced by each deploy.
    pub data_dir: Option<PathBuf>,
}

impl Pipeline {
    /// The `(connection, type)` pairs the pipeline's tasks name (s3, postgres, clickhouse).
    pub fn connections_used(&self) -> std::collections::BTreeSet<(String, &'static str)> {
        let mut out = std::collections::BTreeSet::new();
        for t in &self.tasks {
            let named = match &t.kind {
                TaskKind::Source(s) => {
                    s.connection.as_ref().map(|n| (n, if s.format == SourceFormat::Postgres { "postgres" } else { "s3" }))
                }
                TaskKind::Sink(s) => s.connection.as_ref().map(|n| {
                    let kind = match s.format {
                        SinkFormat::Postgres => "postgres",
                        SinkFormat::ClickHouse => "clickhouse",
                        _ => "s3",
                    };
                    (n, kind)
                }),
                _ => None,
            };
            if let Some((n, kind)) = named {
                out.insert((n.clone(), kind));
            }
        }
        out
    }

    /// The task with this id.
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// The path of `pipeline.toml`.
    pub fn spec_path(&self) -> PathBuf {
        self.dir.join(crate::spec::SPEC_FILE)
    }
}

/// One task of a pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    /// Unique id within the pipeline; SQL refers to the task's output by this name.
    pub id: String,
    /// Free text.
    pub description: Option<String>,
    /// What the task does.
    pub kind: TaskKind,
    /// Extra upstream tasks this one waits for (beyond those its SQL or `input` names).
    pub inputs: Vec<String>,
    /// Every upstream task (SQL tables, `input` and `inputs`), in first-mention order; set by the loader.
    pub upstream: Vec<String>,
    /// How many times a failed attempt is retried.
    pub retries: u32,
    /// Delay before the first retry; doubles after each further failure.
    pub retry_delay: Duration,
    /// Wall-time limit of one attempt.
    pub timeout: Option<Duration>,
    /// Memory budget of one attempt in bytes (`memory_limit`; None: `[defaults]`, else the
    /// built-in default, see [`crate::memory::default_budget`]).
    pub memory_limit: Option<u64>,
    /// Whether an unchanged task may reuse its last output.
    pub cache: bool,
    /// Whether the output is stored (`table`) or recomputed inside each reader's query (`view`).
    pub materialize: Materialize,
    /// The output's declared columns (`schema = { … }`), checked after each run.
    pub schema: Option<crate::contract::Contract>,
    /// Where the task is declared, for error messages.
    #[serde(skip)]
    pub location: Option<Location>,
}

impl Task {
    /// The kind's name as written in `pipeline.toml`.
    pub fn kind_name(&self) -> &'static str {
        self.kind.name()
    }

    /// A hash of what the task's author wrote: its settings and SQL or code (before
    /// parameters), its contract, extra inputs and materialization. Runs record it, so editors
    /// can show a task that changed since its last successful run.
    pub fn definition(&self) -> String {
        let json = serde_json::to_vec(&(&self.kind, &self.schema, &self.inputs, self.materialize)).unwrap_or_default();
        blake3::hash(&json).to_hex()[..16].to_string()
    }
}

/// How a task's output is kept (dbt's materializations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Materialize {
    /// Written once as an artifact; readers scan it.
    Table,
    /// Not written: each reader (a Polars SQL task) inlines the task's query into its own plan,
    /// so projection and filters reach the source files. For cheap or single-use steps.
    View,
}

/// The kinds of task and their settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum TaskKind {
    /// Reads files into a frame.
    Source(SourceTask),
    /// A SQL query over upstream outputs.
    Sql(SqlTask),
    /// Data quality checks over one upstream output.
    Validate(ValidateTask),
    /// Writes an upstream output out of the workspace.
    Sink(SinkTask),
    /// Runs a command.
    Shell(ShellTask),
    /// A Python function over upstream frames (Polars), run in the pipeline's environment.
    Python(PythonTask),
}

impl TaskKind {
    /// The kind's name as written in `pipeline.toml`.
    pub fn name(&self) -> &'static str {
        match self {
            TaskKind::Source(_) => "source",
            TaskKind::Sql(_) => "sql",
            TaskKind::Validate(_) => "validate",
            TaskKind::Sink(_) => "sink",
            TaskKind::Shell(_) => "shell",
            TaskKind::Python(_) => "python",
        }
    }

    /// The kinds accepted in `kind = "…"`.
    pub const NAMES: &'static [&'static str] = &["source", "sql", "validate", "sink", "shell", "python"];
}

/// File formats a `source` task reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// Newline-delimited JSON, one object per line.
    Ndjson,
    /// A JSON array of objects per file.
    Json,
    /// Arrow IPC files (Feather v2).
    Ipc,
    /// The result of a query in a PostgreSQL database (`query` or `table`), read with binary COPY.
    Postgres,
    /// A workspace dataset filled over REST (`dataset = "events"`, see `ingest/<name>.toml`).
    Dataset,
}

impl SourceFormat {
    /// The accepted names.
    pub const NAMES: &'static [&'static str] = &["csv", "parquet", "ndjson", "json", "ipc", "postgres", "dataset"];

    /// The name used in `pipeline.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Csv => "csv",
            SourceFormat::Parquet => "parquet",
            SourceFormat::Ndjson => "ndjson",
            SourceFormat::Json => "json",
            SourceFormat::Ipc => "ipc",
            SourceFormat::Postgres => "postgres",
            SourceFormat::Dataset => "dataset",
        }
    }
}

/// A column computed from each row's source file path.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PathColumn {
    /// The new column's name.
    pub name: String,
    /// A regex over the file path; its first capture group is the value.
    pub pattern: String,
    /// The column type: `string`, `date` or `int`.
    pub dtype: PathColumnType,
    /// chrono format of the captured text when `dtype` is `date` (default `%Y%m%d`).
    pub format: String,
}

/// Types a path-derived column can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PathColumnType {
    /// Text as captured.
    String,
    /// A date parsed with `format`.
    Date,
    /// A 64-bit integer.
    Int,
}

/// Settings of a `source` task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceTask {
    /// The format of the files.
    pub format: SourceFormat,
    /// A path or glob, relative to the pipeline folder, or an `s3://bucket/key` URL or glob; may
    /// use `{{ param }}`.
    pub path: String,
    /// The workspace connection an `s3://` path is read through (None: the AWS_* environment).
    pub connection: Option<String>,
    /// Add `key=value` folder names below the path's fixed part as columns (hive partitions).
    pub hive: bool,
    /// Lift the fields of struct (nested object) columns to top-level columns.
    pub flatten: bool,
    /// When set, flattened names are `parent<sep>field` instead of just `field`.
    pub flatten_separator: Option<String>,
    /// A column derived from the file path.
    pub path_column: Option<PathColumn>,
    /// Rows read to infer a JSON/CSV schema (None: all rows).
    pub infer_schema_rows: Option<usize>,
    /// CSV field separator.
    pub delimiter: u8,
    /// The query a `postgres` source reads (or `table`).
    #[serde(default)]
    pub query: Option<String>,
    /// The table a `postgres` source reads whole (`schema.table`), instead of a query.
    #[serde(default)]
    pub table: Option<String>,
    /// The dataset a `dataset` source reads.
    #[serde(default)]
    pub dataset: Option<String>,
    /// A `dataset` source also reads rows still waiting in the log (then never cached).
    #[serde(default)]
    pub include_unflushed: bool,
    /// Set while planning a `dataset` source: its declaration file and, with
    /// `include_unflushed`, its log.
    #[serde(default)]
    pub dataset_files: Option<(std::path::PathBuf, Option<std::path::PathBuf>)>,
}

impl SourceTask {
    /// The CSV field separator when `delimiter` is not given.
    pub const DEFAULT_DELIMITER: u8 = b',';

    /// A source of `format` files at `path` with every other setting at its default (as a
    /// `pipeline.toml` that names only these two gets).
    pub fn new(format: SourceFormat, path: impl Into<String>) -> Self {
        SourceTask {
            format,
            path: path.into(),
            connection: None,
            hive: false,
            flatten: false,
            flatten_separator: None,
            path_column: None,
            infer_schema_rows: None,
            delimiter: Self::DEFAULT_DELIMITER,
            query: None,
            table: None,
            dataset: None,
            include_unflushed: false,
            dataset_files: None,
        }
    }
}

/// Settings of a `sql` task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SqlTask {
    /// The `.sql` file (relative to the pipeline folder), if the SQL is not inline.
    pub file: Option<String>,
    /// The SQL text as read (file contents or the inline `sql` value), before parameters.
    pub sql: String,
    /// The engine setting, if set on the task (else the pipeline's).
    pub engine: Option<EngineChoice>,
    /// The engine the query runs on: the setting, or what `auto` chose when the pipeline loaded.
    pub runs_on: SqlEngine,
    /// Why `auto` chose DuckDB (the first construct Polars would not answer like DuckDB).
    pub route: Option<String>,
    /// Whether the engine was left to `auto` (a query Polars cannot plan then runs on DuckDB).
    pub auto: bool,
}

/// How bad a failed check is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails the task.
    Error,
    /// Logged; the task succeeds.
    Warn,
}

/// One data quality rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckRule {
    /// The column has no nulls.
    NotNull,
    /// No value of the column occurs twice.
    Unique,
    /// Every non-null value is one of these.
    AcceptedValues(Vec<Literal>),
    /// Values lie within the bounds (inclusive).
    Range {
        /// Lower bound.
        min: Option<Literal>,
        /// Upper bound.
        max: Option<Literal>,
    },
    /// Every non-null value matches the regex (search semantics; anchor with `^…$`).
    Regex(String),
    /// The number of rows lies within the bounds (inclusive).
    RowCount {
        /// Fewest rows.
        min: Option<u64>,
        /// Most rows.
        max: Option<u64>,
    },
    /// A SQL boolean expression (DuckDB dialect) every row satisfies.
    Expr(String),
}

/// A scalar literal in a check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Literal {
    /// Text.
    Str(String),
    /// Integer.
    Int(i64),
    /// Floating point.
    Float(f64),
    /// Boolean.
    Bool(bool),
}

/// One check of a `validate` task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// The column checked (None for table-level rules).
    pub column: Option<String>,
    /// The rule.
    pub rule: CheckRule,
    /// Whether a failure fails the task.
    pub severity: Severity,
}

/// Settings of a `validate` task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidateTask {
    /// The upstream task whose output is checked.
    pub input: String,
    /// The checks, in file order.
    pub checks: Vec<Check>,
    /// How many failing rows per check are kept in the task's output.
    pub sample_rows: usize,
}

/// Formats a `sink` task writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SinkFormat {
    /// A Parquet file, or a hive-partitioned folder of them with `partition_by`.
    Parquet,
    /// A CSV file with a header.
    Csv,
    /// Newline-delimited JSON, one object per row; or a hive-partitioned folder with `partition_by`.
    Ndjson,
    /// A table in a DuckDB database file.
    DuckDb,
    /// A table in a PostgreSQL database, bulk-loaded with binary COPY.
    Postgres,
    /// A MergeTree table in ClickHouse, loaded over HTTP in Native blocks.
    ClickHouse,
}

impl SinkFormat {
    /// The accepted names.
    pub const NAMES: &'static [&'static str] = &["parquet", "csv", "ndjson", "duckdb", "postgres", "clickhouse"];

    /// The file extension of its files.
    pub fn extension(self) -> &'static str {
        match self {
            SinkFormat::Parquet => "parquet",
            SinkFormat::Csv => "csv",
            SinkFormat::Ndjson => "json",
            SinkFormat::DuckDb => "duckdb",
            SinkFormat::Postgres => "postgres",
            SinkFormat::ClickHouse => "clickhouse",
        }
    }
}

/// How a database sink treats an existing table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteMode {
    /// Fail if the table exists.
    Create,
    /// Replace the table atomically.
    Replace,
    /// Append rows (creating the table if needed).
    Append,
    /// Insert rows, updating those whose `key` columns match (PostgreSQL only).
    Upsert,
}

impl WriteMode {
    /// The accepted names.
    pub const NAMES: &'static [&'static str] = &["create", "replace", "append", "upsert"];

    /// The name used in `pipeline.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            WriteMode::Create => "create",
            WriteMode::Replace => "replace",
            WriteMode::Append => "append",
            WriteMode::Upsert => "upsert",
        }
    }
}

/// Settings of a `sink` task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SinkTask {
    /// The upstream task whose output is written.
    pub input: String,
    /// The output format.
    pub format: SinkFormat,
    /// Output file or folder (parquet, csv), relative to the pipeline folder, or an `s3://` URL.
    pub path: Option<String>,
    /// The workspace connection an `s3://` path or a PostgreSQL table is written through (None:
    /// the AWS_* or PG* environment).
    pub connection: Option<String>,
    /// Hive partition columns (parquet only).
    pub partition_by: Vec<String>,
    /// The DuckDB database file (duckdb only), relative to the pipeline folder.
    pub database: Option<String>,
    /// The table (duckdb, postgres), optionally `schema.table`.
    pub table: Option<String>,
    /// The write mode: database tables; partitioned Parquet on `s3://` (replace or append).
    pub mode: WriteMode,
    /// The columns that identify a row for `mode = "upsert"` (postgres).
    #[serde(default)]
    pub key: Vec<String>,
    /// The sorting key of a ClickHouse table the sink creates (`ORDER BY`).
    #[serde(default)]
    pub order_by: Vec<String>,
    /// ClickHouse: the text columns a table the sink creates stores as `LowCardinality`
    /// (None: chosen from the data where the server allows the type).
    #[serde(default)]
    pub low_cardinality: Option<Vec<String>>,
}

/// Settings of a `shell` task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShellTask {
    /// The command line, run by `sh -c` in the pipeline folder.
    pub command: String,
    /// Extra environment variables, in file order.
    pub env: Vec<(String, String)>,
}

/// Settings of a `python` task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PythonTask {
    /// The `.py` file (relative to the pipeline folder), if the code is not inline.
    pub file: Option<String>,
    /// The module's text as read.
    pub code: String,
    /// The function called (`run` unless `function` says otherwise).
    pub function: String,
    /// The function's parameters that name upstream tasks, in signature order (each gets a
    /// `pl.LazyFrame` scan of that task's output).
    pub reads: Vec<String>,
    /// Whether the function takes `params` (the run's parameters as a dict).
    pub takes_params: bool,
    /// The line of the function's `def` (errors about what it returned point there).
    #[serde(default)]
    pub def_line: usize,
    /// The run's parameters `(name, type, value)`, set when the task is planned.
    #[serde(default)]
    pub params: Vec<(String, String, String)>,
}
