//! Named connections of a workspace (`connections.toml` at its root): a type and settings, with
//! secrets only as references (`${env:NAME}` or `${secret:NAME}`), never as values, so the file
//! is safe to commit. Resolving a connection reads the references; the values it returns are
//! [`Secret`]s, which never print.
//!
//! ```toml
//! [connections.lake]
//! type = "s3"
//! endpoint = "http://127.0.0.1:9000"
//! region = "us-east-1"
//! access_key_id = "${env:LAKE_KEY_ID}"
//! secret_access_key = "${secret:lake}"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Location, SpecError, SpecProblem};
use crate::spec::fields::{suggest, Fields, Problems};

/// The file at the workspace root that declares connections.
pub const CONNECTIONS_FILE: &str = "connections.toml";

/// A kind of connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionType {
    /// S3 or an S3-compatible object store.
    S3,
    /// A PostgreSQL server (its database, user and password).
    Postgres,
    /// A ClickHouse server's HTTP interface.
    ClickHouse,
}

impl ConnectionType {
    /// The names used in `type = "…"`.
    pub const NAMES: &'static [&'static str] = &["s3", "postgres", "clickhouse"];

    /// The settings of this type.
    fn settings(self) -> &'static [(&'static str, Setting)] {
        match self {
            ConnectionType::S3 => &[
                ("endpoint", Setting::Text),
                ("bucket", Setting::Text),
                ("region", Setting::Text),
                ("path_style", Setting::Bool),
                ("access_key_id", Setting::Secret),
                ("secret_access_key", Setting::Secret),
                ("session_token", Setting::Secret),
            ],
            ConnectionType::Postgres => &[
                ("host", Setting::Text),
                ("port", Setting::Text),
                ("database", Setting::Text),
                ("user", Setting::Text),
                ("password", Setting::Secret),
                ("sslmode", Setting::Text),
                ("sslrootcert", Setting::Text),
            ],
            ConnectionType::ClickHouse => &[
                ("url", Setting::Text),
                ("database", Setting::Text),
                ("user", Setting::Text),
                ("password", Setting::Secret),
                ("ca_cert", Setting::Text),
            ],
        }
    }
}

/// What a setting holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setting {
    /// Text, written in the file or referenced.
    Text,
    /// `true` or `false`.
    Bool,
    /// A secret: only a reference may be written.
    Secret,
}

/// Where a setting's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "from", content = "name", rename_all = "lowercase")]
pub enum Value {
    /// Written in the file (settings that are not secrets).
    Plain(String),
    /// `${env:NAME}`: the process environment.
    Env(String),
    /// `${secret:NAME}`: Polder's secret store.
    Secret(String),
}

/// One declared connection.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Connection {
    /// Its name (`[connections.NAME]`).
    pub name: String,
    /// Its kind.
    #[serde(rename = "type")]
    pub kind: ConnectionType,
    /// Settings by name, as written (references unresolved).
    pub settings: BTreeMap<String, Value>,
    /// Where it is declared.
    #[serde(skip)]
    pub location: Option<Location>,
}

/// The connections of a workspace.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Connections {
    /// By name.
    pub by_name: BTreeMap<String, Connection>,
}

/// A secret value: never shown by `Debug` or `Display`, so it cannot reach a log or an error.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value read from the environment or a store.
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The value, for the one place that hands it to a client library.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Where `${secret:NAME}` values are read from (the OS keyring, the runner's encrypted store).
pub trait SecretStore {
    /// The value of secret `name`, if set.
    fn get(&self, name: &str) -> Option<Secret>;
}

/// A store without secrets (only `${env:…}` references resolve).
pub struct NoSecrets;

impl SecretStore for NoSecrets {
    fn get(&self, _name: &str) -> Option<Secret> {
        None
    }
}

/// Why a connection cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    /// No connection of that name.
    #[error("no connection named '{name}'{hint}; declare it in {CONNECTIONS_FILE} at the workspace root")]
    Unknown {
        /// The name asked for.
        name: String,
        /// " (did you mean 'x'?)" or nothing.
        hint: String,
    },
    /// A reference that resolves to nothing.
    #[error("connection '{connection}': `{setting}` refers to {reference}, which is not set; {fix}")]
    Unresolved {
        /// The connection.
        connection: String,
        /// The setting.
        setting: String,
        /// `${env:NAME}` or `${secret:NAME}`.
        reference: String,
        /// What to do.
        fix: String,
    },
}

impl Connections {
    /// Reads `connections.toml` in `root`; no file means no connections.
    pub fn load(root: &Path) -> Result<Connections, SpecError> {
        let file = root.join(CONNECTIONS_FILE);
        match std::fs::read_to_string(&file) {
            Ok(text) => Connections::parse(&file, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Connections::default()),
            Err(e) => Err(SpecError::single(None, format!("cannot read {}: {e}", file.display()))),
        }
    }

    /// Parses the text of a connections file; every problem with its line and column.
    pub fn parse(file: &Path, text: &str) -> Result<Connections, SpecError> {
        let doc = toml_edit::Document::parse(text.to_string()).map_err(|e| {
            let loc = e.span().map(|s| Location::from_offset(file, text, s.start));
            SpecError { problems: vec![SpecProblem { location: loc, message: format!("invalid TOML: {}", e.message().trim()) }] }
        })?;
        let mut p = Problems::new(file, text);
        let mut top = Fields::new(doc.as_table(), Some(0..0), CONNECTIONS_FILE);
        let mut out = Connections::default();
        match top.item("connections") {
            None => {}
            Some(item) => match item.as_table_like() {
                None => p.push(item.span(), "`connections` must be a table: [connections.NAME]"),
                Some(table) => {
                    for (name, item) in table.iter() {
                        let span = item.span();
                        let Some(t) = item.as_table_like() else {
                            p.push(span, format!("connection '{name}' must be a table: [connections.{name}]"));
                            continue;
                        };
                        if let Some(c) = read_connection(&mut p, name, t, span) {
                            out.by_name.insert(name.to_string(), c);
                        }
                    }
                }
            },
        }
        top.finish(&mut p);
        if p.list.is_empty() {
            Ok(out)
        } else {
            Err(SpecError { problems: p.list })
        }
    }

    /// The connection `name`, or an error naming the ones there are.
    pub fn get(&self, name: &str) -> Result<&Connection, ConnectionError> {
        self.by_name.get(name).ok_or_else(|| ConnectionError::Unknown {
            name: name.to_string(),
            hint: suggest(name, self.by_name.keys().map(String::as_str))
                .map(|h| format!(" (did you mean '{h}'?)"))
                .unwrap_or_default(),
        })
    }
}

fn read_connection(
    p: &mut Problems,
    name: &str,
    t: &dyn toml_edit::TableLike,
    span: Option<std::ops::Range<usize>>,
) -> Option<Connection> {
    let mut f = Fields::new(t, span.clone(), format!("connection '{name}'"));
    if !crate::spec::valid_name(name) {
        p.push(span.clone(), format!("connection name `{name}` must be letters, digits, _ and -"));
    }
    let kind = match f.choice(p, "type", ConnectionType::NAMES).as_deref() {
        Some(other) => ConnectionType::parse(other)?,
        None => {
            if !f.has("type") {
                p.push(span.clone(), format!("connection '{name}' needs `type` ({})", ConnectionType::NAMES.join(", ")));
            }
            return None;
        }
    };
    let mut settings = BTreeMap::new();
    for &(key, setting) in kind.settings() {
        let at = f.span_of(key);
        if setting == Setting::Bool {
            if let Some(b) = f.bool(p, key) {
                settings.insert(key.to_string(), Value::Plain(b.to_string()));
            }
            continue;
        }
        let secret = setting == Setting::Secret;
        let Some(text) = f.str(p, key) else { continue };
        match reference(&text) {
            Ok(Some(v)) => {
                settings.insert(key.to_string(), v);
            }
            Ok(None) if secret => p.push(
                at,
                format!(
                    "connection '{name}': `{key}` holds a secret, which must not be written in {CONNECTIONS_FILE}; write `\"${{env:NAME}}\"` (an environment variable) or `\"${{secret:NAME}}\"` (set with `polder secret set NAME`)"
                ),
            ),
            Ok(None) => {
                settings.insert(key.to_string(), Value::Plain(text));
            }
            Err(message) => p.push(at, format!("connection '{name}': `{key}`: {message}")),
        }
    }
    f.finish(p);
    Some(Connection { name: name.to_string(), kind, settings, location: p.location(span) })
}

/// `${env:NAME}` or `${secret:NAME}` as a reference; other text is a plain value (`Ok(None)`).
fn reference(text: &str) -> Result<Option<Value>, String> {
    let Some(inner) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) else {
        if text.contains("${") {
            return Err(format!(
                "`{text}` mixes text and a reference; a value is either plain text or one `${{env:NAME}}` / `${{secret:NAME}}`"
            ));
        }
        return Ok(None);
    };
    let (scheme, name) = inner.split_once(':').ok_or_else(|| format!("`{text}` is not `${{env:NAME}}` or `${{secret:NAME}}`"))?;
    let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if !valid {
        return Err(format!("`{name}` in `{text}` is not a valid name (letters, digits, _ - .)"));
    }
    match scheme {
        "env" => Ok(Some(Value::Env(name.to_string()))),
        "secret" => Ok(Some(Value::Secret(name.to_string()))),
        other => Err(format!("unknown reference kind `{other}` in `{text}`; use `env` or `secret`")),
    }
}

/// A connection with its references read: plain settings and secrets.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The connection's name.
    pub name: String,
    /// Its kind.
    pub kind: ConnectionType,
    /// Settings that are not secrets.
    pub plain: BTreeMap<String, String>,
    /// Secret settings (never printed).
    pub secrets: BTreeMap<String, Secret>,
}

impl Connection {
    /// Reads every reference: environment variables through `env`, secrets through `store`.
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>, store: &dyn SecretStore) -> Result<Resolved, ConnectionError> {
        let mut out = Resolved { name: self.name.clone(), kind: self.kind, plain: BTreeMap::new(), secrets: BTreeMap::new() };
        let secret_keys: Vec<&str> =
            self.kind.settings().iter().filter(|(_, s)| *s == Setting::Secret).map(|(k, _)| *k).collect();
        for (key, value) in &self.settings {
            let unresolved = |reference: String, fix: String| ConnectionError::Unresolved {
                connection: self.name.clone(),
                setting: key.clone(),
                reference,
                fix,
            };
            let text = match value {
                Value::Plain(v) => {
                    out.plain.insert(key.clone(), v.clone());
                    continue;
                }
                Value::Env(name) => env(name).filter(|v| !v.is_empty()).map(Secret).ok_or_else(|| {
                    unresolved(format!("${{env:{name}}}"), format!("set the environment variable {name} where Polder runs"))
                })?,
                Value::Secret(name) => store.get(name).ok_or_else(|| {
                    unresolved(
                        format!("${{secret:{name}}}"),
                        format!("set it with `polder secret set {name}` (reads the value from stdin)"),
                    )
                })?,
            };
            if secret_keys.contains(&key.as_str()) {
                out.secrets.insert(key.clone(), text);
            } else {
                out.plain.insert(key.clone(), text.expose().to_string());
            }
        }
        Ok(out)
    }
}

/// The workspace's connections file.
pub fn file(root: &Path) -> PathBuf {
    root.join(CONNECTIONS_FILE)
}

/// Tasks of `pipeline` naming a connection `declared` lacks (or of another type), each with its
/// task's location.
pub fn undeclared(pipeline: &crate::spec::Pipeline, declared: &Connections) -> Vec<SpecProblem> {
    use crate::spec::TaskKind;
    let mut out = Vec::new();
    for t in &pipeline.tasks {
        let named = match &t.kind {
            TaskKind::Source(s) if s.format == crate::spec::SourceFormat::Postgres => {
                s.connection.as_deref().map(|c| (c, ConnectionType::Postgres))
            }
            TaskKind::Source(s) => s.connection.as_deref().map(|c| (c, ConnectionType::S3)),
            TaskKind::Sink(s) if s.format == crate::spec::SinkFormat::Postgres => {
                s.connection.as_deref().map(|c| (c, ConnectionType::Postgres))
            }
            TaskKind::Sink(s) if s.format == crate::spec::SinkFormat::ClickHouse => {
                s.connection.as_deref().map(|c| (c, ConnectionType::ClickHouse))
            }
            TaskKind::Sink(s) => s.connection.as_deref().map(|c| (c, ConnectionType::S3)),
            _ => None,
        };
        let Some((name, wanted)) = named else { continue };
        let message = match declared.get(name) {
            Err(e) => format!("task '{}': {e}", t.id),
            Ok(c) if c.kind != wanted => format!(
                "task '{}': connection '{name}' has type = \"{}\"; this task needs a type = \"{}\" connection",
                t.id,
                c.kind.name(),
                wanted.name()
            ),
            Ok(_) => continue,
        };
        out.push(SpecProblem { location: t.location.clone(), message });
    }
    out
}

/// One setting of a connection type, as an editor shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SettingInfo {
    /// The key in the file.
    pub key: &'static str,
    /// `text` or `bool`.
    pub kind: &'static str,
    /// Whether only a reference may be written.
    pub secret: bool,
}

impl ConnectionType {
    /// Its settings, in file order.
    pub fn setting_infos(self) -> Vec<SettingInfo> {
        self.settings()
            .iter()
            .map(|&(key, s)| SettingInfo {
                key,
                kind: if s == Setting::Bool { "bool" } else { "text" },
                secret: s == Setting::Secret,
            })
            .collect()
    }

    /// The type called `name`.
    pub fn parse(name: &str) -> Option<ConnectionType> {
        match name {
            "s3" => Some(ConnectionType::S3),
            "postgres" => Some(ConnectionType::Postgres),
            "clickhouse" => Some(ConnectionType::ClickHouse),
            _ => None,
        }
    }

    /// Its name in `type = "…"`.
    pub fn name(self) -> &'static str {
        match self {
            ConnectionType::S3 => "s3",
            ConnectionType::Postgres => "postgres",
            ConnectionType::ClickHouse => "clickhouse",
        }
    }
}

/// The text of a connections file with `[connections.NAME]` set to `kind` and `settings` (plain
/// values or references, in the type's order; other connections and comments kept), refused
/// with the file's own messages if it would not load.
pub fn upsert_text(
    file: &Path,
    text: &str,
    name: &str,
    kind: ConnectionType,
    settings: &BTreeMap<String, String>,
) -> Result<String, SpecError> {
    let invalid = |m: String| SpecError::single(None, m);
    let mut doc: toml_edit::DocumentMut =
        text.parse().map_err(|e| invalid(format!("{} is not valid TOML: {e}", file.display())))?;
    for key in settings.keys() {
        if !kind.settings().iter().any(|(k, _)| k == key) {
            let known: Vec<&str> = kind.settings().iter().map(|(k, _)| *k).collect();
            return Err(invalid(format!("a {} connection has no setting `{key}`; settings: {}", kind.name(), known.join(", "))));
        }
    }
    let mut table = toml_edit::Table::new();
    table.insert("type", toml_edit::value(kind.name()));
    for &(key, setting) in kind.settings() {
        let Some(v) = settings.get(key).filter(|v| !v.is_empty()) else { continue };
        if setting == Setting::Bool {
            let b = match v.as_str() {
                "true" => true,
                "false" => false,
                other => return Err(invalid(format!("`{key}` must be true or false, not `{other}`"))),
            };
            table.insert(key, toml_edit::value(b));
        } else {
            table.insert(key, toml_edit::value(v.as_str()));
        }
    }
    let connections = doc.entry("connections").or_insert_with(|| {
        let mut t = toml_edit::Table::new();
        t.set_implicit(true);
        toml_edit::Item::Table(t)
    });
    let Some(connections) = connections.as_table_mut() else {
        return Err(invalid(format!("`connections` in {} is not a table", file.display())));
    };
    connections.insert(name, toml_edit::Item::Table(table));
    let out = doc.to_string();
    Connections::parse(file, &out)?;
    Ok(out)
}

/// The text of a connections file without `[connections.NAME]`; None if it has no such connection.
pub fn remove_text(text: &str, name: &str) -> Option<String> {
    let mut doc: toml_edit::DocumentMut = text.parse().ok()?;
    doc.get_mut("connections")?.as_table_mut()?.remove(name)?;
    Some(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[connections.lake]
type = "s3"
endpoint = "http://127.0.0.1:9000"
region = "us-east-1"
path_style = true
access_key_id = "${env:LAKE_KEY_ID}"
secret_access_key = "${secret:lake}"
"#;

    struct Store(&'static str, &'static str);
    impl SecretStore for Store {
        fn get(&self, name: &str) -> Option<Secret> {
            (name == self.0).then(|| Secret(self.1.to_string()))
        }
    }

    #[test]
    fn references_resolve_and_secrets_never_print() {
        let c = Connections::parse(Path::new("connections.toml"), GOOD).unwrap();
        let lake = c.get("lake").unwrap();
        assert_eq!(lake.settings["secret_access_key"], Value::Secret("lake".into()));
        let env = |k: &str| (k == "LAKE_KEY_ID").then(|| "AKIA-test".to_string());
        let r = lake.resolve(&env, &Store("lake", "hunter2-secret")).unwrap();
        assert_eq!(r.plain["endpoint"], "http://127.0.0.1:9000");
        assert_eq!(r.secrets["secret_access_key"].expose(), "hunter2-secret");
        let shown = format!("{r:?} {}", r.secrets["secret_access_key"]);
        assert!(!shown.contains("hunter2") && !shown.contains("AKIA-test"), "{shown}");

        let err = lake.resolve(&|_| None, &Store("lake", "x")).unwrap_err().to_string();
        assert_eq!(err, "connection 'lake': `access_key_id` refers to ${env:LAKE_KEY_ID}, which is not set; set the environment variable LAKE_KEY_ID where Polder runs");
        let err = lake.resolve(&env, &NoSecrets).unwrap_err().to_string();
        assert!(err.contains("refers to ${secret:lake}, which is not set; set it with `polder secret set lake`"), "{err}");
        let err = c.get("laek").unwrap_err().to_string();
        assert!(err.starts_with("no connection named 'laek' (did you mean 'lake'?)"), "{err}");
    }

    #[test]
    fn a_secret_written_in_the_file_is_refused_with_its_place() {
        let text = "[connections.lake]\ntype = \"s3\"\nsecret_access_key = \"hunter2\"\nendpint = \"x\"\naccess_key_id = \"${vault:k}\"\n";
        let err = Connections::parse(Path::new("connections.toml"), text).unwrap_err();
        let msgs: Vec<String> = err.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(msgs.len(), 3, "{msgs:#?}");
        assert!(
            msgs.iter().any(|m| m.starts_with("connections.toml:3:21: connection 'lake': `secret_access_key` holds a secret")),
            "{msgs:#?}"
        );
        assert!(!msgs.iter().any(|m| m.contains("hunter2")), "{msgs:#?}");
        assert!(msgs.iter().any(|m| m.contains("unknown field `endpint`") && m.contains("did you mean `endpoint`")), "{msgs:#?}");
        assert!(msgs.iter().any(|m| m.contains("unknown reference kind `vault`")), "{msgs:#?}");
    }

    #[test]
    fn no_file_means_no_connections() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(Connections::load(tmp.path()).unwrap().by_name.is_empty());
        std::fs::write(file(tmp.path()), GOOD).unwrap();
        assert_eq!(Connections::load(tmp.path()).unwrap().by_name.keys().collect::<Vec<_>>(), ["lake"]);
    }

    #[test]
    fn edits_keep_other_connections_and_comments_and_refuse_literal_secrets() {
        let f = Path::new("/ws/connections.toml");
        let text = "# shared lakes\n[connections.other]\ntype = \"s3\"\nregion = \"eu-west-1\"\n";
        let mut settings = BTreeMap::new();
        settings.insert("endpoint".to_string(), "http://127.0.0.1:9000".to_string());
        settings.insert("path_style".to_string(), "true".to_string());
        settings.insert("secret_access_key".to_string(), "${secret:lake-secret_access_key}".to_string());
        let out = upsert_text(f, text, "lake", ConnectionType::S3, &settings).unwrap();
        assert!(out.starts_with("# shared lakes\n[connections.other]"), "{out}");
        let c = Connections::parse(f, &out).unwrap();
        assert_eq!(c.by_name["lake"].settings["path_style"], Value::Plain("true".into()));
        assert_eq!(c.by_name["lake"].settings["secret_access_key"], Value::Secret("lake-secret_access_key".into()));
        assert!(c.by_name.contains_key("other"));

        settings.insert("secret_access_key".to_string(), "hunter2".to_string());
        let e = upsert_text(f, text, "lake", ConnectionType::S3, &settings).unwrap_err().to_string();
        assert!(e.contains("holds a secret") && !e.contains("hunter2"), "{e}");
        settings.remove("secret_access_key");
        settings.insert("colour".to_string(), "x".to_string());
        assert!(upsert_text(f, text, "lake", ConnectionType::S3, &settings)
            .unwrap_err()
            .to_string()
            .contains("no setting `colour`"));

        let removed = remove_text(&out, "lake").unwrap();
        assert!(!Connections::parse(f, &removed).unwrap().by_name.contains_key("lake"));
        assert!(remove_text(&removed, "lake").is_none());
    }
}
