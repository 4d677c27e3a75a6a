//! ClickHouse over its HTTP interface: how a task reaches the server ([`ChAccess`]), the column
//! types frames get there ([`ChType`]), their `Native` encoding ([`native`]) and the sink.
//! Works with ClickHouse 18.16 (Debian's), which has no `DateTime64`, `Bool`, Parquet or Arrow input.

pub mod native;
pub mod sink;

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use polars::prelude::DataType;

use crate::connections::{Resolved, Secret};

/// Set to `1` or `0` to gzip insert bodies or not, whatever the server's address.
pub const GZIP_ENV: &str = "POLDER_CLICKHOUSE_GZIP";

/// The setting that lets ClickHouse 18.x create `LowCardinality` columns.
pub const LOW_CARDINALITY_SETTING: &str = "allow_experimental_low_cardinality_type";

/// How long connecting may take before the task fails naming the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A ClickHouse server, database and login.
#[derive(Debug, Clone)]
pub struct ChAccess {
    /// Where the settings came from, for messages.
    pub who: String,
    /// `http://host:port` of the HTTP interface.
    pub url: String,
    /// The database tables are in (None: the user's default).
    pub database: Option<String>,
    /// Login.
    pub user: String,
    password: Option<Secret>,
    /// For an `https://` url: the CA certificates its certificate must chain to.
    roots: Option<Roots>,
}

/// Trusted CA certificates for HTTPS.
#[derive(Clone)]
struct Roots(Arc<Vec<ureq::tls::Certificate<'static>>>);

impl std::fmt::Debug for Roots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} CA certificates", self.0.len())
    }
}

impl ChAccess {
    /// The access a resolved `type = "clickhouse"` connection gives.
    pub fn from_connection(r: &Resolved) -> Result<ChAccess, String> {
        let get = |k: &str| r.plain.get(k).cloned().filter(|v| !v.is_empty());
        ChAccess::new(
            format!("connection '{}'", r.name),
            get("url"),
            get("database"),
            get("user"),
            r.secrets.get("password").cloned(),
            get("ca_cert"),
        )
    }

    /// The access `CLICKHOUSE_URL`, `CLICKHOUSE_DATABASE`, `CLICKHOUSE_USER`,
    /// `CLICKHOUSE_PASSWORD` and `CLICKHOUSE_CA_CERT` describe (defaults: http://localhost:8123,
    /// user `default`).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<ChAccess, String> {
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        ChAccess::new(
            "the CLICKHOUSE_* environment (no `connection` on the task)".into(),
            get("CLICKHOUSE_URL"),
            get("CLICKHOUSE_DATABASE"),
            get("CLICKHOUSE_USER"),
            get("CLICKHOUSE_PASSWORD").map(Secret::new),
            get("CLICKHOUSE_CA_CERT"),
        )
    }

    fn new(
        who: String,
        url: Option<String>,
        database: Option<String>,
        user: Option<String>,
        password: Option<Secret>,
        ca_cert: Option<String>,
    ) -> Result<ChAccess, String> {
        let url = url.unwrap_or_else(|| "http://localhost:8123".into()).trim_end_matches('/').to_string();
        if !url.starts_with("http://") && !url.starts_with("https://") {
            return Err(format!("{who}: `url` must look like http://host:8123 or https://host:8443, not `{url}`"));
        }
        let roots = if url.starts_with("https://") { Some(trusted_roots(&who, ca_cert.as_deref())?) } else { None };
        Ok(ChAccess { who, url, database, user: user.unwrap_or_else(|| "default".into()), password, roots })
    }

    fn agent(&self) -> ureq::Agent {
        let mut config = ureq::Agent::config_builder().http_status_as_error(false).timeout_connect(Some(CONNECT_TIMEOUT));
        if let Some(Roots(certs)) = &self.roots {
            let tls = ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::Rustls)
                .root_certs(ureq::tls::RootCerts::Specific(certs.clone()))
                .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .build();
            config = config.tls_config(tls);
        }
        config.build().into()
    }

    fn auth(&self) -> String {
        let pair = format!("{}:{}", self.user, self.password.as_ref().map_or("", |p| p.expose()));
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
    }

    fn endpoint(&self, query: &str, settings: &[(&str, &str)]) -> String {
        let mut url = format!("{}/?query={}", self.url, encode_component(query));
        if let Some(db) = &self.database {
            url.push_str(&format!("&database={}", encode_component(db)));
        }
        for (k, v) in settings {
            url.push_str(&format!("&{}={}", encode_component(k), encode_component(v)));
        }
        url
    }

    /// Runs a statement (or a query) and returns its text output.
    pub fn execute(&self, sql: &str) -> Result<String, String> {
        self.execute_with(sql, &[])
    }

    /// Runs a statement with query-level settings (`name`, `value`).
    pub fn execute_with(&self, sql: &str, settings: &[(&str, &str)]) -> Result<String, String> {
        let resp = self.agent().post(self.endpoint(sql, settings)).header("Authorization", self.auth()).send(&[][..]);
        self.answer(resp)
    }

    /// Whether tables may have `LowCardinality` columns without a setting: on servers before 19.x
    /// the type is experimental (`allow_experimental_low_cardinality_type` is 0 by default).
    pub fn low_cardinality_is_experimental(&self) -> Result<bool, String> {
        let v = self.execute(&format!("SELECT value FROM system.settings WHERE name = '{LOW_CARDINALITY_SETTING}'"))?;
        Ok(v.trim() == "0")
    }

    /// Whether insert bodies are gzip-compressed: not when the server is on this machine, where
    /// compressing (and the server's decompressing) cost more than sending (1.4x the sink's time
    /// on the bench); `POLDER_CLICKHOUSE_GZIP=1` or `0` decides instead.
    fn compress(&self) -> bool {
        if let Ok(v) = std::env::var(GZIP_ENV) {
            return v == "1";
        }
        let authority = self.url.trim_start_matches("http://").split('/').next().unwrap_or_default();
        !(authority.starts_with("localhost") || authority.starts_with("127.") || authority.starts_with("[::1]"))
    }

    /// Sends what `body` reads as the data of an `INSERT … FORMAT …` statement: one request with
    /// a chunked body, gzip-compressed unless the server is on this machine. A read error aborts
    /// the request mid-body, which fails the insert.
    pub fn insert(&self, statement: &str, body: impl Read + 'static) -> Result<(), String> {
        let request = self.agent().post(self.endpoint(statement, &[])).header("Authorization", self.auth());
        let resp = if !self.compress() {
            request.send(ureq::SendBody::from_owned_reader(body))
        } else {
            let gz = flate2::read::GzEncoder::new(body, flate2::Compression::fast());
            request.header("Content-Encoding", "gzip").send(ureq::SendBody::from_owned_reader(gz))
        };
        self.answer(resp).map(|_| ())
    }

    /// Asks the server's version: whether it answers and takes the login.
    pub fn check(&self) -> Result<String, String> {
        self.execute("SELECT version()").map(|v| v.trim().to_string())
    }

    fn answer(&self, resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<String, String> {
        let mut resp = resp.map_err(|e| {
            let hint = if e.to_string().contains("certificate") || e.to_string().contains("UnknownIssuer") {
                "; set `ca_cert` (CLICKHOUSE_CA_CERT) to the CA file that signed the server's certificate"
            } else {
                "; check the server runs and the url"
            };
            format!("cannot reach ClickHouse at {} ({}): {e}{hint}", self.url, self.who)
        })?;
        let status = resp.status();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        if status.is_success() {
            return Ok(text);
        }
        let text = text.trim();
        if status.as_u16() == 401 || text.contains("Code: 193") || text.contains("Code: 192") {
            return Err(format!("ClickHouse at {} refused user '{}' ({}): {text}", self.url, self.user, self.who));
        }
        Err(text.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_to_a_server_elsewhere_are_compressed() {
        let at = |url: &str| ChAccess::new("test".into(), Some(url.into()), None, None, None, None).unwrap();
        if std::env::var(GZIP_ENV).is_err() {
            assert!(!at("http://127.0.0.1:8123").compress());
            assert!(!at("http://localhost:8123/").compress());
            assert!(!at("http://[::1]:8123").compress());
            assert!(at("http://ch.internal:8123").compress());
            assert!(at("http://10.0.0.7:8123").compress());
        }
        assert!(ChAccess::new("test".into(), Some("ftp://x".into()), None, None, None, None).is_err());
        let missing = ChAccess::new("test".into(), Some("https://x".into()), None, None, None, Some("/nonexistent.pem".into()));
        assert!(missing.unwrap_err().contains("test: cannot read ca_cert /nonexistent.pem"));
    }
}

/// The CA certificates an HTTPS server must chain to: those of the PEM file `ca_cert`, or the system's.
fn trusted_roots(who: &str, ca_cert: Option<&str>) -> Result<Roots, String> {
    use rustls::pki_types::pem::PemObject;
    let certs: Vec<ureq::tls::Certificate<'static>> = match ca_cert {
        Some(path) => {
            let unreadable = |e: &dyn std::fmt::Display| format!("{who}: cannot read ca_cert {path}: {e}");
            let mut out = Vec::new();
            for cert in rustls::pki_types::CertificateDer::pem_file_iter(path).map_err(|e| unreadable(&e))? {
                out.push(ureq::tls::Certificate::from_der(cert.map_err(|e| unreadable(&e))?.as_ref()).to_owned());
            }
            out
        }
        None => rustls_native_certs::load_native_certs()
            .certs
            .iter()
            .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
            .collect(),
    };
    if certs.is_empty() {
        return Err(format!("{who}: no trusted CA certificates for https; set `ca_cert`"));
    }
    Ok(Roots(Arc::new(certs)))
}

/// Percent-encodes a URL query component.
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The ClickHouse type a frame column is loaded as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChType {
    /// `UInt8` (Polars Boolean: 18.16 has no Bool)
    Bool,
    /// `Int8` … `Int64`, by width in bytes
    Int(u8),
    /// `UInt8` … `UInt64`, by width in bytes
    UInt(u8),
    /// `Float32`
    Float32,
    /// `Float64`
    Float64,
    /// `String` (text and binary)
    String,
    /// `Date` (days since 1970-01-01, up to 2105)
    Date,
    /// `DateTime('UTC')` (whole seconds: 18.16 has no DateTime64)
    DateTime,
    /// `Decimal(precision, scale)`
    Decimal(u8, u8),
    /// `Array(Nullable(element))` (a Polars List of a scalar type; arrays cannot be Nullable)
    Array(Box<ChType>),
}

impl ChType {
    /// The type a Polars column is loaded as, or why it cannot be (yet).
    pub fn of(dtype: &DataType) -> Result<ChType, String> {
        Ok(match dtype {
            DataType::Boolean => ChType::Bool,
            DataType::Int8 => ChType::Int(1),
            DataType::Int16 => ChType::Int(2),
            DataType::Int32 => ChType::Int(4),
            DataType::Int64 => ChType::Int(8),
            DataType::UInt8 => ChType::UInt(1),
            DataType::UInt16 => ChType::UInt(2),
            DataType::UInt32 => ChType::UInt(4),
            DataType::UInt64 => ChType::UInt(8),
            DataType::Float32 => ChType::Float32,
            DataType::Float64 => ChType::Float64,
            DataType::String | DataType::Categorical(..) | DataType::Enum(..) | DataType::Binary => ChType::String,
            DataType::Date => ChType::Date,
            DataType::Datetime(..) => ChType::DateTime,
            DataType::Decimal(p, s) => ChType::Decimal(*p as u8, *s as u8),
            DataType::List(inner) => match ChType::of(inner)? {
                ChType::Array(_) => return Err(format!("{dtype} columns (lists of lists) cannot be loaded into ClickHouse yet")),
                element => ChType::Array(Box::new(element)),
            },
            other => {
                return Err(format!("{other} columns cannot be loaded into ClickHouse yet; cast them in an upstream SQL task"))
            }
        })
    }

    /// Its name in ClickHouse (without `Nullable`).
    pub fn name(&self) -> String {
        match self {
            ChType::Array(element) => format!("Array(Nullable({}))", element.name()),
            ChType::Bool => "UInt8".into(),
            ChType::Int(w) => format!("Int{}", w * 8),
            ChType::UInt(w) => format!("UInt{}", w * 8),
            ChType::Float32 => "Float32".into(),
            ChType::Float64 => "Float64".into(),
            ChType::String => "String".into(),
            ChType::Date => "Date".into(),
            ChType::DateTime => "DateTime('UTC')".into(),
            ChType::Decimal(p, s) => format!("Decimal({p}, {s})"),
        }
    }
}

/// A ClickHouse identifier in backquotes.
pub fn quote_ident(s: &str) -> String {
    format!("`{}`", s.replace('\\', "\\\\").replace('`', "\\`"))
}
