//! How a task reaches a PostgreSQL server: a `type = "postgres"` connection of the workspace, or
//! without one the standard libpq variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`,
//! `PGDATABASE`), as `psql` reads them. The password is a [`Secret`]: no error or log shows it.

use std::time::Duration;

use crate::connections::{Resolved, Secret};

/// How long connecting may take before the task fails naming the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A PostgreSQL server, database and login.
#[derive(Debug, Clone)]
pub struct PgAccess {
    /// Where the settings came from, for messages (`connection 'warehouse'`).
    pub who: String,
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Database name.
    pub database: String,
    /// Login role.
    pub user: String,
    password: Option<Secret>,
}

impl PgAccess {
    /// The access a resolved `type = "postgres"` connection gives.
    pub fn from_connection(r: &Resolved) -> Result<PgAccess, String> {
        let who = format!("connection '{}'", r.name);
        let get = |k: &str| r.plain.get(k).cloned().filter(|v| !v.is_empty());
        let port = match get("port") {
            Some(p) => p.parse().map_err(|_| format!("{who}: `port` must be a number from 1 to 65535, not `{p}`"))?,
            None => 5432,
        };
        let user = get("user").ok_or_else(|| format!("{who} needs `user` (the role to log in as)"))?;
        Ok(PgAccess {
            host: get("host").unwrap_or_else(|| "localhost".into()),
            port,
            database: get("database").unwrap_or_else(|| user.clone()),
            user,
            password: r.secrets.get("password").cloned(),
            who,
        })
    }

    /// The access libpq's variables describe, with libpq's defaults (localhost, 5432, the
    /// operating-system user, a database named like the user).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<PgAccess, String> {
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        let who = "the PG* environment (no `connection` on the task)".to_string();
        let port = match get("PGPORT") {
            Some(p) => p.parse().map_err(|_| format!("{who}: PGPORT must be a number from 1 to 65535, not `{p}`"))?,
            None => 5432,
        };
        let user = get("PGUSER")
            .or_else(|| get("USER"))
            .ok_or_else(|| format!("{who}: set PGUSER (or give the task a postgres `connection`)"))?;
        Ok(PgAccess {
            host: get("PGHOST").unwrap_or_else(|| "localhost".into()),
            port,
            database: get("PGDATABASE").unwrap_or_else(|| user.clone()),
            user,
            password: get("PGPASSWORD").map(Secret::new),
            who,
        })
    }

    /// `host:port/database`, for messages.
    pub fn address(&self) -> String {
        format!("{}:{}/{}", self.host, self.port, self.database)
    }

    /// Connects (plain TCP) on the current Tokio runtime, which drives the connection; fails
    /// within [`CONNECT_TIMEOUT`] naming the server and where its settings came from.
    pub async fn connect(&self) -> Result<tokio_postgres::Client, String> {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .dbname(&self.database)
            .user(&self.user)
            .application_name("polder")
            .connect_timeout(CONNECT_TIMEOUT);
        if let Some(p) = &self.password {
            config.password(p.expose());
        }
        let (client, connection) = config.connect(tokio_postgres::NoTls).await.map_err(|e| {
            format!(
                "cannot connect to PostgreSQL at {} as '{}' ({}): {}; check the server runs and the settings",
                self.address(),
                self.user,
                self.who,
                describe(&e)
            )
        })?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "postgres connection ended");
            }
        });
        Ok(client)
    }
}

impl PgAccess {
    /// Connects and asks the server's version: whether it answers and takes the login.
    pub fn check(&self) -> Result<String, String> {
        super::block_on(|| async {
            let client = self.connect().await?;
            let row = client.query_one("SHOW server_version", &[]).await.map_err(|e| describe(&e))?;
            Ok(row.get::<_, String>(0))
        })
        .map_err(|e| e.to_string())?
    }
}

/// Makes `cancel` stop the query `client` is running (the server cancels it, and the task's
/// transaction rolls back when its connection goes).
pub fn cancel_queries_on(cancel: &crate::tasks::CancelFlag, client: &tokio_postgres::Client) {
    let token = client.cancel_token();
    cancel.on_cancel(move || {
        // The hook runs on the canceller's thread, maybe inside a runtime it must not block:
        // the request goes from a thread and small runtime of its own.
        let token = token.clone();
        std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                let _ = rt.block_on(token.cancel_query(tokio_postgres::NoTls));
            }
        });
    });
}

/// A client error in words: the server's own message when it sent one.
pub fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut text = db.message().to_string();
            if let Some(detail) = db.detail() {
                text.push_str(&format!(" ({detail})"));
            }
            if let Some(hint) = db.hint() {
                text.push_str(&format!("; hint: {hint}"));
            }
            if let Some(at) = db.where_() {
                // "COPY sales, line 5, column price": the row and column of a refused value.
                text.push_str(&format!(" [{at}]"));
            }
            text
        }
        None => {
            // "error connecting to server: Connection refused (os error 111)" and the like.
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let more = s.to_string();
                if !text.contains(&more) {
                    text.push_str(&format!(": {more}"));
                }
                source = s.source();
            }
            text
        }
    }
}
