//! Loads `pipeline.toml` (and the `.sql` files it names) into a checked [`Pipeline`].

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use toml_edit::{Item, Table, TableLike};

use crate::dag;
use crate::error::{Location, SpecError, SpecProblem};
use crate::params::{ParamSpec, ParamType, Params};
use crate::paths::PathPolicy;
use crate::spec::fields::{scalar_to_string, suggest, Fields, Problems};
use crate::spec::model::*;
use crate::sqlrefs;

/// The spec file every pipeline folder holds.
pub const SPEC_FILE: &str = "pipeline.toml";

/// Loads the pipeline in `dir`, reporting every problem found.
pub fn load(dir: &Path) -> Result<Pipeline, SpecError> {
    let file = dir.join(SPEC_FILE);
    let text = std::fs::read_to_string(&file).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            "; is this a pipeline folder? `polder init NAME` creates one"
        } else {
            ""
        };
        SpecError::single(None, format!("cannot read {}: {e}{hint}", file.display()))
    })?;
    parse(dir, &text)
}

/// Parses the text of `dir/pipeline.toml`; `.sql` files are read from `dir`.
pub fn parse(dir: &Path, text: &str) -> Result<Pipeline, SpecError> {
    let file = dir.join(SPEC_FILE);
    let doc = toml_edit::Document::parse(text.to_string()).map_err(|e| {
        let loc = e.span().map(|s| Location::from_offset(&file, text, s.start));
        SpecError { problems: vec![SpecProblem { location: loc, message: format!("invalid TOML: {}", e.message().trim()) }] }
    })?;
    let mut p = Problems::new(&file, text);
    let root = doc.as_table();
    let mut top = Fields::new(root, Some(0..0), "pipeline.toml");

    let mut pipeline = Pipeline {
        // Absolute, so the same folder reached by another path (relative from the CLI, absolute
        // from the runner) gives the same file identities and so the same cache fingerprints.
        dir: std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
        name: String::new(),
        description: None,
        schedule: None,
        on_dataset: Vec::new(),
        engine: EngineChoice::Auto,
        max_parallel: None,
        on_interrupt: OnInterrupt::Fail,
        timezone: None,
        max_active_runs: 1,
        params: Vec::new(),
        tasks: Vec::new(),
        data_dir: None,
    };

    match top.item("pipeline").map(|i| (i, i.as_table())) {
        Some((_, Some(t))) => read_header(&mut p, t, &mut pipeline),
        Some((i, None)) => p.push(i.span(), "`pipeline` must be a table: write it as [pipeline]"),
        None => p.push(Some(0..0), "pipeline.toml has no [pipeline] table; add one with at least `name = \"…\"`"),
    }

    if let Some(item) = top.item("trigger") {
        match item.as_table_like() {
            Some(t) => {
                let mut f = Fields::new(t, item.span(), "[trigger]");
                let datasets = match f.item("on_dataset") {
                    Some(i) if i.is_str() => Some(vec![i.as_str().unwrap_or_default().to_string()]),
                    Some(_) => f.str_list(&mut p, "on_dataset"),
                    None => None,
                };
                for d in datasets.unwrap_or_default() {
                    if valid_name(&d) {
                        pipeline.on_dataset.push(d);
                    } else {
                        p.push(f.span_of("on_dataset"), format!("dataset name `{d}` may only use letters, digits, `_` and `-`"));
                    }
                }
                f.finish(&mut p);
            }
            None => p.push(item.span(), "`trigger` must be a table: write it as [trigger]"),
        }
    }

    if let Some(item) = top.item("params") {
        match item.as_table_like() {
            Some(t) => read_params(&mut p, t, &mut pipeline),
            None => p.push(item.span(), "`params` must be a table: write it as [params]"),
        }
    }

    let defaults = match top.item("defaults") {
        Some(item) => match item.as_table() {
            Some(t) => read_defaults(&mut p, t),
            None => {
                p.push(item.span(), "`defaults` must be a table: write it as [defaults]");
                TaskDefaults::default()
            }
        },
        None => TaskDefaults::default(),
    };

    match top.item("task") {
        Some(Item::ArrayOfTables(arr)) => {
            for t in arr.iter() {
                if let Some(task) = read_task(&mut p, dir, t, &defaults, pipeline.engine) {
                    pipeline.tasks.push(task);
                }
            }
        }
        Some(other) => p.push(other.span(), "tasks must be written as [[task]] tables"),
        None => {}
    }
    top.finish(&mut p);

    if p.list.is_empty() {
        link_tasks(&mut p, &mut pipeline);
    }
    if p.list.is_empty() {
        if let Err(cycle) = dag::topo_order(&pipeline) {
            let first = pipeline.task(&cycle[0]).and_then(|t| t.location.clone());
            p.list.push(SpecProblem {
                location: first,
                message: format!("dependency cycle: {}; remove one of these dependencies", cycle.join(" → ")),
            });
        }
    }
    if p.list.is_empty() {
        Ok(pipeline)
    } else {
        Err(SpecError { problems: p.list })
    }
}

/// `[params]`: `name = default` (type from the TOML value) or
/// `name = { type = "date", default = "…", description = "…" }` (no default: required).
fn read_params(p: &mut Problems, t: &dyn TableLike, pipeline: &mut Pipeline) {
    let mut env_names: HashMap<String, String> = HashMap::new();
    for (name, v) in t.iter() {
        let span = t.get_key_value(name).and_then(|(k, _)| k.span()).or_else(|| v.span());
        if !valid_param_name(name) {
            p.push(
                span.clone(),
                format!("parameter name `{name}` must start with a letter or _ and hold only letters, digits and _"),
            );
            continue;
        }
        let (ty, default, description) = match v.as_table_like() {
            Some(spec) => {
                let mut f = Fields::new(spec, v.span(), format!("parameter `{name}`"));
                let ty = match f.choice(p, "type", &ParamType::NAMES) {
                    Some(s) => ParamType::parse(&s),
                    None if f.has("type") => continue,
                    None => None,
                };
                let default = f.item("default");
                let inferred = default.and_then(|d| infer_param(name, d)).map(|(t, _)| t);
                let description = f.str(p, "description");
                f.finish(p);
                let Some(ty) = ty.or(inferred).or(default.is_none().then_some(ParamType::String)) else {
                    p.push(
                        default.and_then(Item::span),
                        format!("parameter `{name}`: `default` must be a string, number, boolean or date"),
                    );
                    continue;
                };
                (ty, default.map(|d| (scalar_to_string(d).unwrap_or_default(), d.span())), description)
            }
            None => match infer_param(name, v) {
                Some((ty, text)) => (ty, Some((text, v.span())), None),
                None => {
                    p.push(v.span(), format!("parameter `{name}` must have a string, number, boolean or date default, or be a table {{ type = \"…\", default = … }}"));
                    continue;
                }
            },
        };
        if name == crate::params::RUN_DATE && ty != ParamType::Date {
            p.push(
                span.clone(),
                format!("parameter `{name}` is the run's logical date and must be of type date, not {}", ty.as_str()),
            );
            continue;
        }
        let default = match default {
            Some((text, at)) => match ty.check(&text) {
                Ok(canonical) => Some(canonical),
                Err(why) => {
                    p.push(at, format!("default of parameter `{name}` (type {}) {why}", ty.as_str()));
                    continue;
                }
            },
            None => None,
        };
        if default.is_none() && pipeline.schedule.is_some() {
            p.push(
                span.clone(),
                format!("parameter `{name}` has no default, but the pipeline has a schedule: scheduled runs could not start; give it a default"),
            );
            continue;
        }
        if default.is_none() && !pipeline.on_dataset.is_empty() {
            p.push(
                span.clone(),
                format!("parameter `{name}` has no default, but the pipeline is started by dataset flushes ([trigger]): those runs could not start; give it a default"),
            );
            continue;
        }
        let env = crate::params::env_name(name);
        if let Some(other) = env_names.insert(env.clone(), name.to_string()) {
            p.push(span, format!("parameters `{other}` and `{name}` would both be ${env} in shell tasks; rename one"));
            continue;
        }
        pipeline.params.push(ParamSpec { name: name.to_string(), ty, default, description });
    }
}

/// The type a default value implies, and its text. `run_date` is a date even when quoted.
fn infer_param(name: &str, v: &Item) -> Option<(ParamType, String)> {
    let text = scalar_to_string(v)?;
    let ty = match v.as_value()? {
        _ if name == crate::params::RUN_DATE => ParamType::Date,
        toml_edit::Value::Integer(_) => ParamType::Int,
        toml_edit::Value::Float(_) => ParamType::Float,
        toml_edit::Value::Boolean(_) => ParamType::Bool,
        toml_edit::Value::Datetime(d) if d.value().time.is_none() && d.value().date.is_some() => ParamType::Date,
        _ => ParamType::String,
    };
    Some((ty, text))
}

fn valid_param_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn read_header(p: &mut Problems, t: &Table, pipeline: &mut Pipeline) {
    let mut f = Fields::new(t, t.span(), "[pipeline]");
    if let Some(name) = f.req_str(p, "name") {
        if valid_name(&name) {
            pipeline.name = name;
        } else {
            p.push(
                f.span_of("name"),
                format!("pipeline name `{name}` may only use letters, digits, `_` and `-` (at most {MAX_NAME_LEN})"),
            );
        }
    }
    pipeline.description = f.str(p, "description");
    if let Some(s) = f.str(p, "schedule") {
        let n = s.split_whitespace().count();
        if n == 5 || n == 6 {
            pipeline.schedule = Some(s);
        } else {
            p.push(f.span_of("schedule"), format!("schedule `{s}` is not a cron expression: expected 5 fields (min hour day month weekday), or 6 with seconds first"));
        }
    }
    if let Some(e) = f.choice(p, "engine", ENGINES) {
        pipeline.engine = EngineChoice::parse(&e).unwrap_or_default();
    }
    pipeline.timezone = f.str(p, "timezone");
    if let Some(n) = f.uint(p, "max_active_runs") {
        if n == 0 {
            p.push(f.span_of("max_active_runs"), "max_active_runs must be at least 1");
        } else {
            pipeline.max_active_runs = n as usize;
        }
    }
    if f.choice(p, "on_interrupt", &["fail", "resume"]).as_deref() == Some("resume") {
        pipeline.on_interrupt = OnInterrupt::Resume;
    }
    if let Some(n) = f.uint(p, "max_parallel") {
        if n == 0 {
            p.push(f.span_of("max_parallel"), "max_parallel must be at least 1");
        } else {
            pipeline.max_parallel = Some(n as usize);
        }
    }
    f.finish(p);
}

#[derive(Default)]
struct TaskDefaults {
    retries: Option<u32>,
    retry_delay: Option<Duration>,
    timeout: Option<Duration>,
    memory_limit: Option<u64>,
}

fn read_defaults(p: &mut Problems, t: &Table) -> TaskDefaults {
    let mut f = Fields::new(t, t.span(), "[defaults]");
    let d = TaskDefaults {
        retries: f.uint(p, "retries").map(|n| n as u32),
        retry_delay: f.secs(p, "retry_delay_secs"),
        timeout: f.secs(p, "timeout_secs"),
        memory_limit: f.size(p, "memory_limit"),
    };
    f.finish(p);
    d
}

/// The values of `engine`.
const ENGINES: &[&str] = &["auto", "polars", "duckdb"];

/// Longest pipeline name or task id. Both end up in file names (folders, artifacts, logs), and
/// a file name has at most 255 bytes, so a longer one would fail deep inside a write.
pub const MAX_NAME_LEN: usize = 100;

/// Whether `s` is a valid pipeline name: 1 to [`MAX_NAME_LEN`] letters, digits, `_` and `-`.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_NAME_LEN && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Whether `s` is a valid task id. Task ids double as SQL table names, so they are plain
/// lower-case identifiers (at most [`MAX_NAME_LEN`] long).
pub fn valid_task_id(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= MAX_NAME_LEN
        && matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn read_task(p: &mut Problems, dir: &Path, t: &Table, defaults: &TaskDefaults, engine: EngineChoice) -> Option<Task> {
    let mut f = Fields::new(t, t.span(), "a [[task]]");
    let id = f.req_str(p, "id");
    if let Some(id) = &id {
        f.what = format!("task '{id}'");
        if !valid_task_id(id) {
            p.push(f.span_of("id"), format!("task id `{id}` must be a lower-case SQL identifier (a-z, 0-9, _; not starting with a digit; at most {MAX_NAME_LEN} characters), since SQL reads it as a table name"));
        }
    }
    let kind_name = if f.has("kind") {
        f.choice(p, "kind", TaskKind::NAMES)
    } else {
        f.req_str(p, "kind");
        None
    };
    let description = f.str(p, "description");
    let inputs = f.str_list(p, "inputs").unwrap_or_default();
    let retries = f.uint(p, "retries").map(|n| n as u32).or(defaults.retries).unwrap_or(0);
    let retry_delay = f.secs(p, "retry_delay_secs").or(defaults.retry_delay).unwrap_or(Duration::from_secs(1));
    let timeout = f.secs(p, "timeout_secs").or(defaults.timeout);
    let memory_limit = f.size(p, "memory_limit").or(defaults.memory_limit);
    // A database has no cheap fingerprint, nor has a log that fills by the second.
    let from_database = kind_name.as_deref() == Some("source")
        && (f.peek_str("format") == Some("postgres")
            || (f.peek_str("format") == Some("dataset") && f.peek_bool("include_unflushed") == Some(true)));
    let cache = f.bool(p, "cache").unwrap_or(!from_database);
    let materialize = match f.choice(p, "materialize", &["table", "view"]).as_deref() {
        Some("view") => {
            // `auto` may still pick DuckDB for the query; the link step checks that.
            let polars_sql = match f.peek_str("engine") {
                Some(e) => e != "duckdb",
                None => engine != EngineChoice::DuckDb,
            };
            let remote =
                f.peek_str("path").is_some_and(crate::s3::is_s3) || matches!(f.peek_str("format"), Some("postgres" | "dataset"));
            let ok = match kind_name.as_deref() {
                Some("source") => true,
                Some("sql") => polars_sql,
                _ => false,
            };
            if !ok {
                p.push(
                    f.span_of("materialize"),
                    format!("{}: materialize = \"view\" is for source tasks and Polars SQL tasks only", f.what),
                );
            } else if remote && kind_name.as_deref() == Some("source") {
                // Each reader would read the bucket again, outside the fingerprint.
                p.push(
                    f.span_of("materialize"),
                    format!(
                        "{}: a source reading s3://, PostgreSQL or a dataset cannot be materialize = \"view\"; keep it a table",
                        f.what
                    ),
                );
            }
            Materialize::View
        }
        _ => Materialize::Table,
    };

    let schema = read_contract(p, &mut f);
    if materialize == Materialize::View && schema.is_some() {
        // A view is never stored, so no run would check it: refused rather than passed silently.
        p.push(
            f.span_of("schema"),
            format!(
                "{}: a schema contract is checked on a stored output, and materialize = \"view\" stores none; \
                 set materialize = \"table\", or declare the contract on a task that reads this one",
                f.what
            ),
        );
    }
    let kind = match kind_name.as_deref() {
        Some("source") => read_source(p, &mut f).map(TaskKind::Source),
        Some("sql") => read_sql(p, &mut f, dir).map(TaskKind::Sql),
        Some("validate") => read_validate(p, &mut f).map(TaskKind::Validate),
        Some("sink") => read_sink(p, &mut f).map(TaskKind::Sink),
        Some("shell") => read_shell(p, &mut f).map(TaskKind::Shell),
        Some("python") => read_python(p, &mut f, dir).map(TaskKind::Python),
        _ => None,
    };
    // Unknown-field checks only make sense once the kind (and so its fields) is known.
    if kind_name.is_some() {
        f.finish(p);
    }
    Some(Task {
        id: id?,
        description,
        kind: kind?,
        inputs,
        upstream: Vec::new(),
        retries,
        retry_delay,
        timeout,
        memory_limit,
        cache,
        materialize,
        schema,
        location: p.location(t.span()),
    })
}

/// `schema = { id = "i64 not null unique", … }` and `schema_strict`: the output's contract.
fn read_contract(p: &mut Problems, f: &mut Fields) -> Option<crate::contract::Contract> {
    let strict = f.bool(p, "schema_strict");
    let Some(item) = f.item("schema") else {
        if strict.is_some() {
            p.push(
                f.span_of("schema_strict"),
                format!("{}: `schema_strict` needs a `schema = {{ column = \"type\" }}` table", f.what),
            );
        }
        return None;
    };
    let Some(table) = item.as_table_like() else {
        p.push(
            item.span(),
            format!("`schema` in {} must be a table of column types, like schema = {{ id = \"i64 not null unique\", amount = \"f64\" }}", f.what),
        );
        return None;
    };
    let mut columns = Vec::new();
    for (name, v) in table.iter() {
        match v.as_str() {
            Some(text) => match crate::contract::parse_column(name, text) {
                Ok(c) => columns.push(c),
                Err(message) => p.push(v.span(), format!("{}: schema {message}", f.what)),
            },
            None => p.push(v.span(), format!("`schema.{name}` in {} must be a string like \"str not null\"", f.what)),
        }
    }
    Some(crate::contract::Contract { columns, strict: strict.unwrap_or(false) })
}

fn read_python(p: &mut Problems, f: &mut Fields, dir: &Path) -> Option<PythonTask> {
    let function = f.str(p, "function").unwrap_or_else(|| "run".to_string());
    let file = f.str(p, "file");
    let inline = f.str(p, "code");
    let id = f.what.trim_start_matches("task '").trim_end_matches('\'').to_string();
    let code = match (&file, inline) {
        (Some(_), Some(_)) => {
            p.push(f.span_of("code"), format!("{} has both `file` and `code`; keep one", f.what));
            return None;
        }
        (Some(name), None) => {
            if !name.ends_with(".py") {
                p.push(f.span_of("file"), format!("{}: `file = \"{name}\"` must be a .py file", f.what));
                return None;
            }
            let read =
                crate::paths::pipeline_file(dir, name).map_err(|e| format!("{}: Python file {e}", f.what)).and_then(|path| {
                    std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read Python file `{name}`: {e}", f.what))
                });
            match read {
                Ok(s) => s,
                Err(message) => {
                    p.push(f.span_of("file"), message);
                    return None;
                }
            }
        }
        (None, Some(code)) => code,
        (None, None) => {
            p.push(f.span(), format!("{} needs `file = \"{id}.py\"` (or inline `code = \"…\"`)", f.what));
            return None;
        }
    };
    let sig = match crate::python::signature::parse(&code, &function) {
        Ok(sig) => sig,
        Err(e) => {
            let location = match &file {
                Some(name) => Some(Location { file: dir.join(name), line: e.line, col: 1 }),
                None => p.location(f.span_of("code")),
            };
            p.list.push(SpecProblem { location, message: format!("{}: {}", f.what, e.message) });
            return None;
        }
    };
    let takes_params = sig.names.iter().any(|n| n == crate::python::signature::PARAMS);
    let reads = sig.names.into_iter().filter(|n| n != crate::python::signature::PARAMS).collect();
    Some(PythonTask { file, code, function, reads, takes_params, def_line: sig.line, params: Vec::new() })
}

fn read_source(p: &mut Problems, f: &mut Fields) -> Option<SourceTask> {
    let format = f.req_str(p, "format");
    let format = match format.as_deref() {
        Some("csv") => Some(SourceFormat::Csv),
        Some("parquet") => Some(SourceFormat::Parquet),
        Some("ndjson" | "jsonl") => Some(SourceFormat::Ndjson),
        Some("json") => Some(SourceFormat::Json),
        Some("ipc" | "arrow" | "feather") => Some(SourceFormat::Ipc),
        Some("postgres") => return read_postgres_source(p, f),
        Some("dataset") => return read_dataset_source(p, f),
        Some(other) => {
            p.push(
                f.span_of("format"),
                format!("unknown source format `{other}` in {}; expected one of: {}", f.what, SourceFormat::NAMES.join(", ")),
            );
            None
        }
        None => None,
    };
    let path = f.req_str(p, "path");
    let connection = read_connection_ref(p, f, path.as_deref());
    let hive = f.bool(p, "hive").unwrap_or(false);
    let flatten = f.bool(p, "flatten").unwrap_or(false);
    let flatten_separator = f.str(p, "flatten_separator");
    let infer_schema_rows = f.uint(p, "infer_schema_rows").map(|n| n as usize);
    let delimiter = match f.str(p, "delimiter") {
        Some(d) if d.len() == 1 => d.as_bytes()[0],
        Some(_) => {
            p.push(f.span_of("delimiter"), "delimiter must be a single ASCII character");
            SourceTask::DEFAULT_DELIMITER
        }
        None => SourceTask::DEFAULT_DELIMITER,
    };
    let path_column = match f.item("path_column") {
        Some(item) => {
            match item.as_table_like() {
                Some(t) => read_path_column(p, t, item.span(), &f.what),
                None => {
                    p.push(item.span(), format!("`path_column` in {} must be a table like {{ name = \"date\", pattern = '(\\d{{8}})', type = \"date\" }}", f.what));
                    None
                }
            }
        }
        None => None,
    };
    Some(SourceTask {
        format: format?,
        path: path?,
        connection,
        hive,
        flatten,
        flatten_separator,
        path_column,
        infer_schema_rows,
        delimiter,
        query: None,
        table: None,
        dataset: None,
        include_unflushed: false,
        dataset_files: None,
    })
}

/// A `dataset` source: `dataset = "NAME"` (whether it is declared is checked when the workspace
/// is known), optionally `include_unflushed`.
fn read_dataset_source(p: &mut Problems, f: &mut Fields) -> Option<SourceTask> {
    let name = f.req_str(p, "dataset")?;
    if !valid_name(&name) {
        p.push(f.span_of("dataset"), format!("dataset name `{name}` may only use letters, digits, `_` and `-`"));
        return None;
    }
    let mut src = SourceTask::new(SourceFormat::Dataset, "");
    src.include_unflushed = f.bool(p, "include_unflushed").unwrap_or(false);
    src.dataset = Some(name);
    Some(src)
}

/// A `postgres` source: `query` or `table`, and optionally `connection` (none: the PG* variables).
fn read_postgres_source(p: &mut Problems, f: &mut Fields) -> Option<SourceTask> {
    let query = f.str(p, "query");
    let table = f.str(p, "table");
    let connection = read_database_connection(p, f);
    let mut src = SourceTask::new(SourceFormat::Postgres, "");
    src.connection = connection;
    match (query, table) {
        (Some(q), None) => src.query = Some(q.trim().trim_end_matches(';').trim_end().to_string()),
        (None, Some(t)) if valid_table_name(&t) => src.table = Some(t),
        (None, Some(t)) => {
            p.push(
                f.span_of("table"),
                format!("table name `{t}` must be an identifier, optionally schema-qualified (letters, digits, _)"),
            );
            return None;
        }
        (Some(_), Some(_)) => {
            p.push(f.span_of("table"), format!("{} has both `query` and `table`; keep one", f.what));
            return None;
        }
        (None, None) => {
            p.push(f.span(), format!("{} (format = \"postgres\") needs `query` or `table`", f.what));
            return None;
        }
    }
    Some(src)
}

/// `connection = "NAME"`: only beside an `s3://` path (whether NAME exists is checked where the
/// workspace is known: planning, validate, deploy).
fn read_connection_ref(p: &mut Problems, f: &mut Fields, path: Option<&str>) -> Option<String> {
    let name = f.str(p, "connection")?;
    if !valid_name(&name) {
        p.push(f.span_of("connection"), format!("connection name `{name}` must be letters, digits, _ and -"));
        return None;
    }
    if let Some(path) = path {
        if !crate::s3::is_s3(path) {
            p.push(
                f.span_of("connection"),
                format!("{} has `connection = \"{name}\"` but a local path; connections are for s3:// paths (remove it, or write path = \"s3://bucket/…\")", f.what),
            );
        }
    }
    Some(name)
}

fn read_path_column(p: &mut Problems, t: &dyn TableLike, span: Option<std::ops::Range<usize>>, what: &str) -> Option<PathColumn> {
    let mut f = Fields::new(t, span, format!("`path_column` of {what}"));
    let name = f.req_str(p, "name");
    let pattern = f.req_str(p, "pattern");
    if let Some(pat) = &pattern {
        match regex::Regex::new(pat) {
            Ok(re) if re.captures_len() >= 2 => {}
            Ok(_) => p.push(f.span_of("pattern"), format!("pattern `{pat}` needs a capture group `(…)` around the value")),
            Err(e) => p.push(f.span_of("pattern"), format!("invalid regex: {e}")),
        }
    }
    let dtype = match f.choice(p, "type", &["string", "date", "int"]).as_deref() {
        Some("date") => PathColumnType::Date,
        Some("int") => PathColumnType::Int,
        _ => PathColumnType::String,
    };
    let format = f.str(p, "format").unwrap_or_else(|| "%Y%m%d".to_string());
    f.finish(p);
    Some(PathColumn { name: name?, pattern: pattern?, dtype, format })
}

fn read_sql(p: &mut Problems, f: &mut Fields, dir: &Path) -> Option<SqlTask> {
    let engine = f.choice(p, "engine", ENGINES).and_then(|e| EngineChoice::parse(&e));
    let file = f.str(p, "file");
    let inline = f.str(p, "sql");
    let sql = match (&file, inline) {
        (Some(_), Some(_)) => {
            p.push(f.span_of("sql"), format!("{} has both `file` and `sql`; keep one", f.what));
            return None;
        }
        (Some(name), None) => {
            // Confined first: a refused file is never read, so no error can quote its content.
            let read = crate::paths::pipeline_file(dir, name).map_err(|e| format!("{}: SQL file {e}", f.what)).and_then(|path| {
                std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read SQL file `{name}`: {e}", f.what))
            });
            match read {
                Ok(s) => s,
                Err(message) => {
                    p.push(f.span_of("file"), message);
                    return None;
                }
            }
        }
        (None, Some(s)) => s,
        (None, None) => {
            p.push(
                f.span(),
                format!(
                    "{} needs `file = \"{}.sql\"` or inline `sql = \"…\"`",
                    f.what,
                    f.what.trim_start_matches("task '").trim_end_matches('\'')
                ),
            );
            return None;
        }
    };
    // `runs_on` is settled when the pipeline is linked and the query parsed.
    let runs_on = if engine == Some(EngineChoice::DuckDb) { SqlEngine::DuckDb } else { SqlEngine::Polars };
    Some(SqlTask { file, sql, engine, runs_on, route: None, auto: false })
}

fn read_validate(p: &mut Problems, f: &mut Fields) -> Option<ValidateTask> {
    let input = f.req_str(p, "input");
    let default_severity = severity(p, f).unwrap_or(Severity::Error);
    let sample_rows = f.uint(p, "sample_rows").unwrap_or(100) as usize;
    let mut checks = Vec::new();
    match f.item("checks") {
        Some(Item::ArrayOfTables(arr)) => {
            for t in arr.iter() {
                read_check(p, t, t.span(), &f.what, default_severity, &mut checks);
            }
        }
        Some(item @ Item::Value(toml_edit::Value::Array(arr))) => {
            for v in arr.iter() {
                match v.as_inline_table() {
                    Some(t) => read_check(p, t, v.span(), &f.what, default_severity, &mut checks),
                    None => p.push(
                        v.span().or(item.span()),
                        format!("each check of {} must be a table like {{ column = \"id\", not_null = true }}", f.what),
                    ),
                }
            }
        }
        Some(other) => p.push(other.span(), format!("`checks` of {} must be an array of tables", f.what)),
        None => p.push(f.span(), format!("{} has no `checks`", f.what)),
    }
    Some(ValidateTask { input: input?, checks, sample_rows })
}

fn severity(p: &mut Problems, f: &mut Fields) -> Option<Severity> {
    f.choice(p, "severity", &["error", "warn"]).map(|s| if s == "warn" { Severity::Warn } else { Severity::Error })
}

fn read_check(
    p: &mut Problems,
    t: &dyn TableLike,
    span: Option<std::ops::Range<usize>>,
    what: &str,
    default: Severity,
    out: &mut Vec<Check>,
) {
    let mut f = Fields::new(t, span.clone(), format!("a check of {what}"));
    let column = f.str(p, "column");
    let sev = severity(p, &mut f).unwrap_or(default);
    let before = out.len();
    let mut push = |rule: CheckRule, needs_column: bool, p: &mut Problems| {
        if needs_column && column.is_none() {
            p.push(span.clone(), format!("a check of {what} uses a column rule but names no `column`"));
        }
        out.push(Check { column: column.clone(), rule, severity: sev });
    };
    if f.bool(p, "not_null") == Some(true) {
        push(CheckRule::NotNull, true, p);
    }
    if f.bool(p, "unique") == Some(true) {
        push(CheckRule::Unique, true, p);
    }
    if let Some(values) = f.literal_list(p, "accepted_values") {
        push(CheckRule::AcceptedValues(values), true, p);
    }
    let (min, max) = (f.literal(p, "min"), f.literal(p, "max"));
    if min.is_some() || max.is_some() {
        push(CheckRule::Range { min, max }, true, p);
    }
    if let Some(re) = f.str(p, "regex") {
        if let Err(e) = regex::Regex::new(&re) {
            p.push(f.span_of("regex"), format!("invalid regex in {what}: {e}"));
        }
        push(CheckRule::Regex(re), true, p);
    }
    if let Some(item) = f.item("row_count") {
        match item.as_table_like() {
            Some(rt) => {
                let mut rf = Fields::new(rt, item.span(), format!("`row_count` of {what}"));
                let (min, max) = (rf.uint(p, "min"), rf.uint(p, "max"));
                rf.finish(p);
                push(CheckRule::RowCount { min, max }, false, p);
            }
            None => match item.as_integer() {
                Some(n) if n >= 0 => push(CheckRule::RowCount { min: Some(n as u64), max: Some(n as u64) }, false, p),
                _ => p.push(item.span(), format!("`row_count` in {what} must be {{ min = …, max = … }} or an exact count")),
            },
        }
    }
    if let Some(expr) = f.str(p, "expr") {
        push(CheckRule::Expr(expr), false, p);
    }
    if out.len() == before {
        p.push(
            span,
            format!("a check of {what} has no rule; use not_null, unique, accepted_values, min/max, regex, row_count or expr"),
        );
    }
    f.finish(p);
}

fn read_sink(p: &mut Problems, f: &mut Fields) -> Option<SinkTask> {
    let input = f.req_str(p, "input");
    let format = match f.req_str(p, "format").as_deref() {
        Some("parquet") => Some(SinkFormat::Parquet),
        Some("csv") => Some(SinkFormat::Csv),
        Some("ndjson" | "jsonl") => Some(SinkFormat::Ndjson),
        Some("duckdb") => Some(SinkFormat::DuckDb),
        Some("postgres") => Some(SinkFormat::Postgres),
        Some("clickhouse") => Some(SinkFormat::ClickHouse),
        Some(other) => {
            p.push(
                f.span_of("format"),
                format!("unknown sink format `{other}` in {}; expected one of: {}", f.what, SinkFormat::NAMES.join(", ")),
            );
            None
        }
        None => None,
    };
    let mut sink = SinkTask {
        input: input?,
        format: format?,
        path: None,
        connection: None,
        partition_by: Vec::new(),
        database: None,
        table: None,
        mode: WriteMode::Replace,
        key: Vec::new(),
        order_by: Vec::new(),
        low_cardinality: None,
    };
    match sink.format {
        SinkFormat::Parquet | SinkFormat::Csv | SinkFormat::Ndjson => {
            sink.path = f.req_str(p, "path");
            sink.connection = read_connection_ref(p, f, sink.path.as_deref());
            if matches!(sink.format, SinkFormat::Parquet | SinkFormat::Ndjson) {
                sink.partition_by = f.str_list(p, "partition_by").unwrap_or_default();
            }
            let remote_parts = sink.path.as_deref().is_some_and(crate::s3::is_s3) && !sink.partition_by.is_empty();
            if let Some(m) = f.choice(p, "mode", &["replace", "append"]) {
                if !remote_parts {
                    p.push(
                        f.span_of("mode"),
                        format!("`mode` of {} applies to duckdb tables and to partitioned Parquet on s3://; a file sink always replaces its file", f.what),
                    );
                }
                if m == "append" {
                    sink.mode = WriteMode::Append;
                }
            }
        }
        SinkFormat::DuckDb => {
            sink.database = f.req_str(p, "database");
            sink.table = read_table(p, f, "schema");
            if let Some(m) = f.choice(p, "mode", &["create", "replace", "append"]) {
                sink.mode = match m.as_str() {
                    "create" => WriteMode::Create,
                    "append" => WriteMode::Append,
                    _ => WriteMode::Replace,
                };
            }
        }
        SinkFormat::Postgres => {
            sink.table = read_table(p, f, "schema");
            sink.connection = read_database_connection(p, f);
            if let Some(m) = f.choice(p, "mode", WriteMode::NAMES) {
                sink.mode = match m.as_str() {
                    "create" => WriteMode::Create,
                    "append" => WriteMode::Append,
                    "upsert" => WriteMode::Upsert,
                    _ => WriteMode::Replace,
                };
            }
            sink.key = f.str_list(p, "key").unwrap_or_default();
            match (sink.mode, sink.key.is_empty()) {
                (WriteMode::Upsert, true) => p.push(
                    f.span_of("mode"),
                    format!("{} is mode = \"upsert\", which needs `key = [\"…\"]`: the columns that identify a row", f.what),
                ),
                (WriteMode::Upsert, false) | (_, true) => {}
                (_, false) => p.push(f.span_of("key"), format!("`key` of {} is for mode = \"upsert\" only", f.what)),
            }
        }
        SinkFormat::ClickHouse => {
            sink.table = read_table(p, f, "database");
            sink.connection = read_database_connection(p, f);
            if let Some(m) = f.choice(p, "mode", &["create", "replace", "append"]) {
                sink.mode = match m.as_str() {
                    "create" => WriteMode::Create,
                    "append" => WriteMode::Append,
                    _ => WriteMode::Replace,
                };
            }
            sink.order_by = f.str_list(p, "order_by").unwrap_or_default();
            sink.low_cardinality = f.str_list(p, "low_cardinality");
            if sink.order_by.is_empty() && sink.mode != WriteMode::Append {
                p.push(
                    f.span(),
                    format!(
                        "{} (clickhouse) needs `order_by = [\"…\"]`: the sorting key of the MergeTree table it creates",
                        f.what
                    ),
                );
            }
        }
    }
    let needs = match sink.format {
        SinkFormat::DuckDb => sink.database.is_some(),
        SinkFormat::Postgres | SinkFormat::ClickHouse => sink.table.is_some(),
        _ => sink.path.is_some(),
    };
    if !needs {
        return None;
    }
    Some(sink)
}

/// A database sink's required `table` (`prefix.table` allowed, `prefix` named like the database
/// calls it: schema or database), checked to be an identifier.
fn read_table(p: &mut Problems, f: &mut Fields, prefix: &str) -> Option<String> {
    let table = f.req_str(p, "table")?;
    if !valid_table_name(&table) {
        p.push(
            f.span_of("table"),
            format!("table name `{table}` must be an identifier, optionally {prefix}-qualified (letters, digits, _)"),
        );
    }
    Some(table)
}

/// A database task's optional `connection` (whether it exists is checked where the workspace is known).
fn read_database_connection(p: &mut Problems, f: &mut Fields) -> Option<String> {
    let name = f.str(p, "connection")?;
    if !valid_name(&name) {
        p.push(f.span_of("connection"), format!("connection name `{name}` must be letters, digits, _ and -"));
    }
    Some(name)
}

fn valid_table_name(s: &str) -> bool {
    s.split('.').count() <= 2
        && s.split('.').all(|part| {
            let mut c = part.chars();
            matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
                && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        })
}

fn read_shell(p: &mut Problems, f: &mut Fields) -> Option<ShellTask> {
    let command = f.req_str(p, "command");
    let env = f.str_map(p, "env").unwrap_or_default();
    Some(ShellTask { command: command?, env })
}

/// Resolves each task's upstream list and checks that every reference names a task with output.
fn link_tasks(p: &mut Problems, pipeline: &mut Pipeline) {
    let mut seen: HashMap<String, Option<Location>> = HashMap::new();
    for t in &pipeline.tasks {
        if let Some(first) = seen.get(&t.id) {
            let at = first.as_ref().map(|l| format!(" (first declared at line {})", l.line)).unwrap_or_default();
            p.list.push(SpecProblem {
                location: t.location.clone(),
                message: format!("duplicate task id '{}'{at}; task ids must be unique", t.id),
            });
        } else {
            seen.insert(t.id.clone(), t.location.clone());
        }
    }
    let views: HashMap<String, bool> =
        pipeline.tasks.iter().map(|t| (t.id.clone(), t.materialize == Materialize::View)).collect();
    let sql_views = polars_views(pipeline);
    let has_output: HashMap<String, bool> =
        pipeline.tasks.iter().map(|t| (t.id.clone(), !matches!(t.kind, TaskKind::Sink(_) | TaskKind::Shell(_)))).collect();
    let ids: Vec<String> = pipeline.tasks.iter().map(|t| t.id.clone()).collect();
    // Placeholders are rendered with the defaults so that the SQL parses; `run_date` gets a sample value.
    let params = Params::samples(pipeline);
    let paths = PathPolicy::from_env().unwrap_or_default();
    let default_engine = pipeline.engine;
    let dir = pipeline.dir.clone();

    for task in &mut pipeline.tasks {
        let mut upstream: Vec<String> = Vec::new();
        let add = |name: &str, upstream: &mut Vec<String>| {
            if !upstream.iter().any(|u| u == name) {
                upstream.push(name.to_string());
            }
        };
        let unknown = |name: &str, how: &str| {
            let hint =
                suggest(name, ids.iter().map(String::as_str)).map(|h| format!(" (did you mean '{h}'?)")).unwrap_or_default();
            format!("task '{}' {how} '{name}', which is not a task of this pipeline{hint}", task.id)
        };
        let mut problems: Vec<String> = Vec::new();
        let mut sql_problem: Option<SpecProblem> = None;
        if let TaskKind::Sql(sql) = &mut task.kind {
            let choice = sql.engine.unwrap_or(default_engine);
            let file_loc = |line: usize, col: usize| {
                sql.file.as_ref().map(|f| Location { file: dir.join(f), line, col }).or_else(|| task.location.clone())
            };
            let is_view = task.materialize == Materialize::View;
            match route_sql(&task.id, &sql.sql, choice, &params, is_view, &sql_views) {
                Err((line, col, message)) => sql_problem = Some(SpecProblem { location: file_loc(line, col), message }),
                Ok(routed) => {
                    sql.runs_on = routed.engine;
                    sql.route = routed.reason;
                    sql.auto = choice == EngineChoice::Auto;
                    if let Some((line, col, message)) = routed.refusal {
                        sql_problem = Some(SpecProblem { location: file_loc(line, col), message });
                    }
                    let refs: BTreeSet<String> = sqlrefs::table_refs(&routed.statements);
                    // Keep the order of first mention in the text for stable edges.
                    let mut ordered: Vec<&String> = refs.iter().collect();
                    let lower = routed.rendered.to_lowercase();
                    ordered.sort_by_key(|r| lower.find(r.as_str()).unwrap_or(usize::MAX));
                    for r in ordered {
                        if r == &task.id {
                            problems.push(format!("task '{}' reads its own output '{r}'", task.id));
                        } else if !has_output.contains_key(r) {
                            problems.push(unknown(r, "reads table"));
                        } else if !has_output[r] {
                            problems.push(format!(
                                "task '{}' reads table '{r}', but '{r}' is a sink or shell task and has no output",
                                task.id
                            ));
                        } else {
                            add(r, &mut upstream);
                        }
                    }
                }
            }
            if task.materialize == Materialize::View && sql.runs_on == SqlEngine::DuckDb && choice == EngineChoice::Auto {
                problems.push(format!(
                    "task '{}' is materialize = \"view\", which needs Polars, but engine = \"auto\" runs it on DuckDB ({}); set materialize = \"table\"",
                    task.id,
                    sql.route.as_deref().unwrap_or("")
                ));
            }
        }
        // Placeholders elsewhere (unknown names, shell placeholders inside '…'), and data paths
        // outside the pipeline folder with the default values.
        let data_path = |written: &str| -> Option<String> {
            match params.render_text(written) {
                Ok(path) => paths.data_path(&dir, &path).err().map(|e| e.to_string()),
                Err(e) => Some(e.to_string()),
            }
        };
        let rendered = match &task.kind {
            TaskKind::Shell(sh) => params.render_shell(&sh.command).err().map(|e| e.to_string()),
            TaskKind::Validate(v) => v.checks.iter().find_map(|c| match &c.rule {
                CheckRule::Expr(e) => params.render_sql(e, SqlEngine::DuckDb).err().map(|e| e.to_string()),
                _ => None,
            }),
            TaskKind::Source(src) => data_path(&src.path),
            TaskKind::Sink(sink) => sink.path.iter().chain(sink.database.iter()).find_map(|t| data_path(t)),
            TaskKind::Sql(_) | TaskKind::Python(_) => None,
        };
        if let Some(e) = rendered {
            problems.push(format!("task '{}': {e}", task.id));
        }
        if let TaskKind::Python(py) = &task.kind {
            for r in &py.reads {
                if r == &task.id {
                    problems.push(format!("task '{}' reads its own output '{r}' (a parameter of {}())", task.id, py.function));
                } else if !has_output.contains_key(r) {
                    problems.push(format!(
                        "{}; each parameter of {}() other than `params` names an upstream task",
                        unknown(r, "has a parameter"),
                        py.function
                    ));
                } else if !has_output[r] {
                    problems.push(format!("task '{}' reads '{r}', but '{r}' is a sink or shell task and has no output", task.id));
                } else if views.get(r) == Some(&true) {
                    problems.push(format!(
                        "task '{}' reads '{r}', a view, which Python tasks cannot read; set materialize = \"table\" on '{r}'",
                        task.id
                    ));
                } else {
                    add(r, &mut upstream);
                }
            }
        }
        let data_input = match &task.kind {
            TaskKind::Validate(v) => Some(v.input.clone()),
            TaskKind::Sink(s) => Some(s.input.clone()),
            _ => None,
        };
        if let Some(input) = data_input {
            if input == task.id {
                problems.push(format!("task '{}' names itself as input", task.id));
            } else if !has_output.contains_key(&input) {
                problems.push(unknown(&input, "has input"));
            } else if !has_output[&input] {
                problems.push(format!(
                    "task '{}' has input '{input}', but '{input}' is a sink or shell task and has no output",
                    task.id
                ));
            } else {
                add(&input, &mut upstream);
            }
        }
        for input in &task.inputs {
            if input == &task.id {
                problems.push(format!("task '{}' lists itself in `inputs`", task.id));
            } else if !has_output.contains_key(input) {
                problems.push(unknown(input, "lists in `inputs`"));
            } else {
                add(input, &mut upstream);
            }
        }
        // Polars SQL tasks, and database sinks (they stream their input through Polars).
        let reads_views_in_polars = match &task.kind {
            TaskKind::Sql(s) => s.runs_on == SqlEngine::Polars,
            TaskKind::Sink(s) => matches!(s.format, SinkFormat::Postgres | SinkFormat::ClickHouse),
            _ => false,
        };
        // DuckDB reads a source view through a stream (tasks::view_scan); a SQL view only inside Polars' plan.
        let reads_source_views = matches!(&task.kind, TaskKind::Sql(s) if s.runs_on == SqlEngine::DuckDb);
        let why_duckdb = match &task.kind {
            TaskKind::Sql(s) => s.route.as_ref().map(|r| format!(" (engine = \"auto\" keeps this query on DuckDB: {r})")),
            _ => None,
        };
        for u in &upstream {
            let readable = reads_views_in_polars || (reads_source_views && sql_views.get(u) != Some(&true));
            if views.get(u) == Some(&true) && !readable && !task.inputs.contains(u) {
                let who = if sql_views.get(u) == Some(&true) {
                    "only Polars SQL tasks and postgres or clickhouse sinks"
                } else {
                    "only SQL tasks and postgres or clickhouse sinks"
                };
                problems.push(format!(
                    "task '{}' reads '{u}', which is materialize = \"view\"; {who} can read it{}, so set materialize = \"table\" on '{u}'",
                    task.id,
                    why_duckdb.as_deref().unwrap_or("")
                ));
            }
        }
        p.list.extend(sql_problem);
        p.list.extend(problems.into_iter().map(|message| SpecProblem { location: task.location.clone(), message }));
        task.upstream = upstream;
    }
}

/// Task id → whether it is a Polars SQL view (`materialize = "view"` on a SQL task), which only
/// Polars SQL tasks can read; DuckDB reads source views through a stream.
pub fn polars_views(pipeline: &Pipeline) -> HashMap<String, bool> {
    pipeline
        .tasks
        .iter()
        .map(|t| (t.id.clone(), t.materialize == Materialize::View && matches!(t.kind, TaskKind::Sql(_))))
        .collect()
}

/// A SQL task's query, parsed, and the engine it runs on.
pub struct Routed {
    /// The SQL with sample parameter values.
    pub rendered: String,
    /// `rendered`, parsed.
    pub statements: Vec<sqlparser::ast::Statement>,
    /// The engine it runs on.
    pub engine: SqlEngine,
    /// Why `auto` chose DuckDB.
    pub reason: Option<String>,
    /// Why `engine = "polars"` refuses it: line, column, message.
    pub refusal: Option<(usize, usize, String)>,
}

/// Parses a SQL task's query and settles its engine. `auto` runs on DuckDB, the reference and the
/// faster engine for SQL over stored outputs (TPC-H SF 1: 5.5x faster in total than Polars SQL
/// on the 13 queries both answer alike, see bench/README.md), except where only Polars can run the task:
/// a `materialize = "view"` SQL task, or one that reads one; there Polars is used when
/// [`crate::polars_sql::analyze`] finds nothing Polars would answer differently.
/// `polars` refuses what Polars answers differently or cannot run. Errors carry line and column.
pub fn route_sql(
    id: &str,
    sql: &str,
    choice: EngineChoice,
    params: &Params,
    is_view: bool,
    views: &HashMap<String, bool>,
) -> Result<Routed, (usize, usize, String)> {
    // Parameters render as literals of the dialect; both dialects write them alike.
    let dialect = if choice == EngineChoice::DuckDb { SqlEngine::DuckDb } else { SqlEngine::Polars };
    let rendered = params.render_sql(sql, dialect).map_err(|e| {
        let (line, col) = line_col(sql, e.offset());
        (line, col, format!("task '{id}': {e}"))
    })?;
    let parsed = match sqlrefs::parse(&rendered, dialect) {
        // DuckDB-only syntax (`SELECT * EXCLUDE …`) is fine for `auto`: it runs on DuckDB.
        Err(_) if choice == EngineChoice::Auto => sqlrefs::parse(&rendered, SqlEngine::DuckDb)
            .map(|s| (s, Some("DuckDB syntax Polars' SQL parser does not read".to_string()))),
        other => other.map(|s| (s, None)),
    };
    let (statements, parse_note) = parsed.map_err(|e| {
        let (line, col) = e.position.unwrap_or((1, 1));
        (line, col, format!("task '{id}': SQL syntax error ({} dialect): {}", dialect.as_str(), e.message))
    })?;
    if statements.len() != 1 || !matches!(statements[0], sqlparser::ast::Statement::Query(_)) {
        return Err((
            1,
            1,
            format!(
                "task '{id}': the SQL must be exactly one SELECT (or WITH … SELECT) query; found {} statement(s)",
                statements.len()
            ),
        ));
    }
    let mut routed = Routed { rendered, statements, engine: SqlEngine::DuckDb, reason: None, refusal: None };
    match choice {
        EngineChoice::DuckDb => {}
        EngineChoice::Auto if parse_note.is_some() => routed.reason = parse_note,
        EngineChoice::Auto => {
            let reads_view = sqlrefs::table_refs(&routed.statements).iter().any(|r| views.get(r) == Some(&true));
            if is_view || reads_view {
                let analysis = crate::polars_sql::analyze(&routed.statements);
                match analysis.findings.first() {
                    None => routed.engine = SqlEngine::Polars,
                    Some(f) => routed.reason = Some(f.to_string()),
                }
            }
        }
        EngineChoice::Polars => {
            routed.engine = SqlEngine::Polars;
            let analysis = crate::polars_sql::analyze(&routed.statements);
            let refusal = analysis.refusals().next().cloned();
            if let Some(f) = refusal {
                let what = match f.verdict {
                    crate::polars_sql::Verdict::Differs => "Polars would answer differently from DuckDB",
                    _ => "Polars SQL cannot run",
                };
                routed.refusal = Some((
                    f.line,
                    f.col,
                    format!("task '{id}' (engine = \"polars\"): {what}: {}: {} (or engine = \"auto\", which picks the engine per query)", f.construct, f.detail),
                ));
            }
        }
    }
    Ok(routed)
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let l = Location::from_offset(Path::new(""), text, offset);
    (l.line, l.col)
}
