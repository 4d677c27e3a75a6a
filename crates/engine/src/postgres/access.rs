//! How a task reaches a PostgreSQL server: a `type = "postgres"` connection of the workspace, or
//! without one the standard libpq variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`,
//! `PGDATABASE`, `PGSSLMODE`, `PGSSLROOTCERT`), as `psql` reads them. The password is a
//! [`Secret`]: no error or log shows it. TLS is rustls (ring), as libpq's `sslmode` asks.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

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
    /// Whether and how the connection is encrypted.
    pub ssl: SslMode,
    /// The CA certificates (PEM) that `verify-ca` and `verify-full` trust (None: the system's).
    pub root_cert: Option<PathBuf>,
}

/// libpq's `sslmode`: how far a connection is encrypted and its server checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, without checking its certificate (libpq's default).
    Prefer,
    /// TLS or no connection, without checking the certificate.
    Require,
    /// TLS with a certificate signed by a trusted CA, for any host name.
    VerifyCa,
    /// TLS with a trusted certificate for the host connected to.
    VerifyFull,
}

impl SslMode {
    /// The values `sslmode` takes.
    pub const NAMES: &'static str = "disable, prefer, require, verify-ca or verify-full";

    fn parse(v: &str) -> Option<SslMode> {
        Some(match v {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }
}

/// The `sslmode` and root certificate settings, checked.
fn tls_settings(who: &str, mode: Option<String>, root: Option<String>) -> Result<(SslMode, Option<PathBuf>), String> {
    let ssl = match mode {
        None => SslMode::Prefer,
        Some(m) => SslMode::parse(&m).ok_or_else(|| format!("{who}: sslmode must be {}, not `{m}`", SslMode::NAMES))?,
    };
    Ok((ssl, root.map(PathBuf::from)))
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
        let (ssl, root_cert) = tls_settings(&who, get("sslmode"), get("sslrootcert"))?;
        Ok(PgAccess {
            ssl,
            root_cert,
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
        let (ssl, root_cert) = tls_settings(&who, get("PGSSLMODE"), get("PGSSLROOTCERT"))?;
        Ok(PgAccess {
            ssl,
            root_cert,
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

    /// Connects on the current Tokio runtime, which drives the connection, encrypted as
    /// `sslmode` says; fails within [`CONNECT_TIMEOUT`] naming the server and where its settings
    /// came from.
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
        let connected = match self.ssl {
            SslMode::Disable => {
                config.ssl_mode(tokio_postgres::config::SslMode::Disable);
                open(&config, tokio_postgres::NoTls).await
            }
            mode => {
                let wanted = if mode == SslMode::Prefer {
                    tokio_postgres::config::SslMode::Prefer
                } else {
                    tokio_postgres::config::SslMode::Require
                };
                config.ssl_mode(wanted);
                open(&config, tokio_postgres_rustls::MakeRustlsConnect::new(self.tls_config()?)).await
            }
        };
        connected.map_err(|e| {
            let mut why = describe(&e);
            if why.contains("certificate") && matches!(self.ssl, SslMode::VerifyCa | SslMode::VerifyFull) {
                why.push_str("; set `sslrootcert` (PGSSLROOTCERT) to the CA file that signed the server's certificate");
            }
            format!(
                "cannot connect to PostgreSQL at {} as '{}' ({}): {why}; check the server runs and the settings",
                self.address(),
                self.user,
                self.who,
            )
        })
    }

    /// The TLS client `sslmode` asks for: every certificate accepted (prefer, require), or
    /// checked against `sslrootcert` or the system's roots (verify-ca, verify-full).
    fn tls_config(&self) -> Result<rustls::ClientConfig, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?;
        let verifier: Arc<dyn ServerCertVerifier> = match self.ssl {
            SslMode::VerifyCa | SslMode::VerifyFull => {
                let mut roots = rustls::RootCertStore::empty();
                match &self.root_cert {
                    Some(path) => {
                        let unreadable =
                            |e: &dyn std::fmt::Display| format!("{}: cannot read sslrootcert {}: {e}", self.who, path.display());
                        for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(&e))? {
                            roots.add(cert.map_err(|e| unreadable(&e))?).map_err(|e| unreadable(&e))?;
                        }
                    }
                    None => {
                        for cert in rustls_native_certs::load_native_certs().certs {
                            let _ = roots.add(cert);
                        }
                    }
                }
                if roots.is_empty() {
                    return Err(format!(
                        "{}: no trusted CA certificates to check the server's against; set `sslrootcert`",
                        self.who
                    ));
                }
                let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .map_err(|e| format!("cannot set up TLS: {e}"))?;
                if self.ssl == SslMode::VerifyCa {
                    Arc::new(AnyHostName(webpki))
                } else {
                    webpki
                }
            }
            _ => Arc::new(Unchecked(provider)),
        };
        Ok(builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth())
    }
}

/// Opens a connection with `tls` and spawns the task that drives it.
async fn open<T>(config: &tokio_postgres::Config, tls: T) -> Result<tokio_postgres::Client, tokio_postgres::Error>
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>,
    T::Stream: Send + 'static,
{
    let (client, connection) = config.connect(tls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "postgres connection ended");
        }
    });
    Ok(client)
}

/// `prefer` and `require`: encrypts without checking who answers, as libpq does.
#[derive(Debug)]
struct Unchecked(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the certificate must chain to a trusted CA; the name in it is not checked.
#[derive(Debug)]
struct AnyHostName(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for AnyHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
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
