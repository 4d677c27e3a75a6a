//! Connections of the runner's workspace: list them (settings as written, secrets only as
//! references), add or change one (secret values go to the secret store, never to the file or
//! back to the caller), remove one, and test one against its server.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use polder_engine::connections::{self, ConnectionType, Connections, Value};
use serde::{Deserialize, Serialize};

use crate::connections::{put, remove, secret_name};
use crate::error::ApiError;
use crate::state::AppState;

/// One setting as written in `connections.toml`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SettingView {
    /// The key.
    pub key: String,
    /// A plain value (never a secret).
    pub value: Option<String>,
    /// `${env:NAME}` or `${secret:NAME}`.
    pub reference: Option<String>,
    /// Whether the setting holds a secret.
    pub secret: bool,
    /// Whether its reference resolves here (plain values always do).
    pub resolved: bool,
}

/// A connection as the Connections view shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectionView {
    /// Its name.
    pub name: String,
    /// Its type (`s3`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its settings, in the type's order.
    pub settings: Vec<SettingView>,
    /// Why it cannot be used as it stands (a reference that does not resolve).
    pub problem: Option<String>,
}

/// A setting a type has.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SettingInfoView {
    /// The key.
    pub key: String,
    /// `text` or `bool`.
    pub kind: String,
    /// Whether only a reference may be written in the file.
    pub secret: bool,
}

/// A connection type and its settings.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TypeView {
    /// The type's name.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its settings.
    pub settings: Vec<SettingInfoView>,
}

/// The workspace's connections.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectionsResponse {
    /// The file they are declared in.
    pub file: String,
    /// Why the file cannot be read (with file:line:col), if so.
    pub error: Option<String>,
    /// The connections.
    pub connections: Vec<ConnectionView>,
    /// Names of the stored secrets (never values).
    pub secrets: Vec<String>,
    /// The connection types and their settings.
    pub types: Vec<TypeView>,
}

/// The connections of the workspace, each with its references' state; secret values never.
#[utoipa::path(get, path = "/api/connections", tag = "connections",
    responses((status = 200, description = "Connections, secret names, types", body = ConnectionsResponse)))]
pub async fn list_connections(State(state): State<Arc<AppState>>) -> Result<Json<ConnectionsResponse>, ApiError> {
    let st = state.clone();
    let out = tokio::task::spawn_blocking(move || {
        let root = st.ws.root();
        let secrets = st.connection_secrets.as_ref();
        let (conns, error) = match Connections::load(root) {
            Ok(c) => (c, None),
            Err(e) => (Connections::default(), Some(e.to_string())),
        };
        let env = |n: &str| std::env::var(n).ok();
        let views = conns
            .by_name
            .values()
            .map(|c| {
                let infos = c.kind.setting_infos();
                let settings = infos
                    .iter()
                    .filter_map(|i| c.settings.get(i.key).map(|v| (i, v)))
                    .map(|(i, v)| {
                        let (value, reference, resolved) = match v {
                            Value::Plain(p) => (Some(p.clone()), None, true),
                            Value::Env(n) => (None, Some(format!("${{env:{n}}}")), env(n).is_some_and(|v| !v.is_empty())),
                            Value::Secret(n) => {
                                (None, Some(format!("${{secret:{n}}}")), connections::SecretStore::get(secrets, n).is_some())
                            }
                        };
                        SettingView { key: i.key.to_string(), value, reference, secret: i.secret, resolved }
                    })
                    .collect();
                let problem = c.resolve(&env, secrets).err().map(|e| e.to_string());
                ConnectionView { name: c.name.clone(), kind: c.kind.name().to_string(), settings, problem }
            })
            .collect();
        let types = ConnectionType::NAMES
            .iter()
            .filter_map(|n| ConnectionType::parse(n))
            .map(|t| TypeView {
                kind: t.name().to_string(),
                settings: t
                    .setting_infos()
                    .into_iter()
                    .map(|i| SettingInfoView { key: i.key.to_string(), kind: i.kind.to_string(), secret: i.secret })
                    .collect(),
            })
            .collect();
        ConnectionsResponse {
            file: connections::CONNECTIONS_FILE.to_string(),
            error,
            connections: views,
            secrets: secrets.names(),
            types,
        }
    })
    .await
    .map_err(|e| ApiError::Internal(format!("connections: {e}")))?;
    Ok(Json(out))
}

/// A connection to add or change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutConnection {
    /// Its type (`s3`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Settings: plain values, or `${env:NAME}` / `${secret:NAME}` references.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Secret values typed by the user, by setting: stored in the secret store as
    /// `<connection>-<setting>` and referenced from the file. A secret setting in neither map
    /// keeps its current reference.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

/// Adds or changes a connection; its secret values go to the secret store (the OS keyring in the
/// desktop app), only references to them to `connections.toml`.
#[utoipa::path(put, path = "/api/connections/{name}", tag = "connections",
    params(("name" = String, Path, description = "Connection name")), request_body(content = PutConnection),
    responses((status = 204, description = "Saved"), (status = 400, description = "Invalid name, type or setting")))]
pub async fn put_connection(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Json(req): Json<PutConnection>,
) -> Result<StatusCode, ApiError> {
    if !polder_engine::spec::valid_name(&name) {
        return Err(ApiError::BadRequest(format!("connection name `{name}` must be letters, digits, _ and -")));
    }
    let kind = ConnectionType::parse(&req.kind).ok_or_else(|| {
        ApiError::BadRequest(format!("unknown connection type `{}`; types: {}", req.kind, ConnectionType::NAMES.join(", ")))
    })?;
    let infos = kind.setting_infos();
    for key in req.secrets.keys() {
        if !infos.iter().any(|i| i.secret && i.key == key) {
            return Err(ApiError::BadRequest(format!("`{key}` is not a secret setting of a {} connection", kind.name())));
        }
    }
    let st = state.clone();
    let named = name.clone();
    tokio::task::spawn_blocking(move || {
        let name = named;
        let mut settings = req.settings;
        for (key, value) in &req.secrets {
            let secret = secret_name(&name, key);
            st.connection_secrets.set(&secret, value).map_err(ApiError::BadRequest)?;
            settings.insert(key.clone(), format!("${{secret:{secret}}}"));
        }
        put(st.ws.root(), &name, kind, settings).map_err(ApiError::BadRequest)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("connections: {e}")))??;
    tracing::info!(connection = %name, "connection saved");
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a connection and the secrets stored for it.
#[utoipa::path(delete, path = "/api/connections/{name}", tag = "connections",
    params(("name" = String, Path, description = "Connection name")),
    responses((status = 204, description = "Removed"), (status = 404, description = "No such connection")))]
pub async fn delete_connection(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        let kind = Connections::load(st.ws.root()).ok().and_then(|c| c.by_name.get(&name).map(|c| c.kind));
        if !remove(st.ws.root(), &name).map_err(ApiError::Internal)? {
            return Err(ApiError::NotFound(format!("no connection named '{name}'")));
        }
        for info in kind.map(|k| k.setting_infos()).unwrap_or_default().into_iter().filter(|i| i.secret) {
            st.connection_secrets.remove(&secret_name(&name, info.key)).map_err(ApiError::Internal)?;
        }
        Ok(())
    })
    .await
    .map_err(|e| ApiError::Internal(format!("connections: {e}")))??;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of a connection test.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestConnection {
    /// The bucket to look for (default: the connection's `bucket`).
    #[serde(default)]
    pub bucket: Option<String>,
}

/// The answer of a connection test.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestResult {
    /// Whether the endpoint answered, accepted the credentials and has the bucket.
    pub ok: bool,
    /// One line saying so, or what failed.
    pub message: String,
}

/// Asks the connection's server whether it answers, accepts the credentials and has the bucket.
#[utoipa::path(post, path = "/api/connections/{name}/test", tag = "connections",
    params(("name" = String, Path, description = "Connection name")), request_body(content = TestConnection),
    responses((status = 200, description = "The verdict in one line", body = TestResult), (status = 404, description = "No such connection")))]
pub async fn test_connection(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Json(req): Json<TestConnection>,
) -> Result<Json<TestResult>, ApiError> {
    let st = state.clone();
    let out = tokio::task::spawn_blocking(move || {
        crate::connections::test(&st.ws, &name, req.bucket.as_deref()).map(|(ok, message)| TestResult { ok, message })
    })
    .await
    .map_err(|e| ApiError::Internal(format!("connections: {e}")))??;
    Ok(Json(out))
}
