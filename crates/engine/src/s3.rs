//! S3 object storage for sources and sinks: whom to ask (a named connection, else the standard
//! `AWS_*` environment), listing objects for a glob (key, size and ETag make the cache
//! fingerprint), and the small object operations a partitioned sink needs (uploads, a manifest,
//! cleanup). Rows themselves flow through Polars' own object_store client ([`S3Access::cloud_options`]).
//!
//! Every call fails within seconds when the endpoint does not answer (short connect timeout, two
//! retries), and errors name the connection and the endpoint, never a credential.

use std::future::Future;
use std::time::Duration;

use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use polars::prelude::cloud::CloudOptions;

use crate::connections::{Resolved, Secret};

/// The object a Polder-written partitioned output lists its files in; readers of the folder use
/// it, so they never see a half-written or superseded output.
pub const MANIFEST: &str = "_polder_manifest.json";

/// How long to wait for a TCP connection to the endpoint.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a listing, a manifest or a check may take: a server that accepts connections but
/// never answers fails the task in well under a minute.
const QUICK_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one uploaded part (16 MiB) may take.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// Why an S3 operation failed; each names the connection (or the environment) and the endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3Error {
    /// Not an `s3://bucket/key` URL.
    #[error("`{0}` is not an S3 URL; write s3://BUCKET/KEY")]
    BadUrl(String),
    /// Neither an endpoint nor a region is known, so the request would go to AWS and wait minutes
    /// to learn the region.
    #[error("{0}: no endpoint and no region; set `endpoint` or `region` on the connection, or AWS_ENDPOINT_URL / AWS_REGION")]
    NoRegion(String),
    /// The endpoint did not answer.
    #[error("{who}: cannot reach {endpoint}: {detail}; check that the server runs and the endpoint is right")]
    Unreachable {
        /// The connection.
        who: String,
        /// Where it points.
        endpoint: String,
        /// The client's reason.
        detail: String,
    },
    /// The credentials were refused.
    #[error("{who}: {endpoint} refused the credentials for bucket '{bucket}' ({detail}); check the access key and secret")]
    Denied {
        /// The connection.
        who: String,
        /// Where it points.
        endpoint: String,
        /// The bucket.
        bucket: String,
        /// The server's reason.
        detail: String,
    },
    /// The bucket does not exist.
    #[error("{who}: bucket '{bucket}' does not exist at {endpoint}; create it or fix the path")]
    NoBucket {
        /// The connection.
        who: String,
        /// Where it points.
        endpoint: String,
        /// The bucket.
        bucket: String,
    },
    /// An object that should be there is not.
    #[error("{who}: {url} does not exist (removed while the task ran?)")]
    NotFound {
        /// The connection.
        who: String,
        /// The object.
        url: String,
    },
    /// Any other failure.
    #[error("{who}: {what} failed at {endpoint}: {detail}")]
    Other {
        /// The connection.
        who: String,
        /// The operation.
        what: String,
        /// Where it points.
        endpoint: String,
        /// The client's reason.
        detail: String,
    },
}

/// Whether `path` names object storage rather than a local file.
pub fn is_s3(path: &str) -> bool {
    path.starts_with("s3://") || path.starts_with("s3a://")
}

/// An `s3://bucket/key` location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    /// The bucket.
    pub bucket: String,
    /// The key (or key prefix / pattern), without a leading `/`.
    pub key: String,
}

impl S3Url {
    /// Parses `s3://bucket/key` (also `s3a://`).
    pub fn parse(url: &str) -> Result<S3Url, S3Error> {
        let rest = url.strip_prefix("s3://").or_else(|| url.strip_prefix("s3a://")).ok_or_else(|| S3Error::BadUrl(url.into()))?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() || bucket.contains(['*', '?', '[', '{']) {
            return Err(S3Error::BadUrl(url.into()));
        }
        Ok(S3Url { bucket: bucket.to_string(), key: key.trim_start_matches('/').to_string() })
    }

    /// The URL of `key` in the same bucket.
    pub fn of(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// Where requests for a connection go, with its credentials (never printed).
#[derive(Clone)]
pub struct S3Access {
    who: String,
    endpoint: Option<String>,
    region: Option<String>,
    path_style: bool,
    key_id: Option<Secret>,
    secret: Option<Secret>,
    token: Option<Secret>,
}

impl std::fmt::Debug for S3Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Access")
            .field("who", &self.who)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .finish()
    }
}

/// An [`S3Access`] as plain strings, for the pipe to a task process (never logged or stored).
pub type WireAccess = Vec<(String, String)>;

impl S3Access {
    /// The access a resolved `s3` connection describes.
    pub fn from_connection(r: &Resolved) -> Result<S3Access, S3Error> {
        let endpoint = r.plain.get("endpoint").cloned().filter(|e| !e.is_empty());
        let region = r.plain.get("region").cloned().filter(|e| !e.is_empty());
        // Local servers (an endpoint) want path-style URLs; AWS itself virtual-hosted ones.
        let path_style = r.plain.get("path_style").map(|v| v == "true").unwrap_or(endpoint.is_some());
        let access = S3Access {
            who: format!("connection '{}'", r.name),
            endpoint,
            region,
            path_style,
            key_id: r.secrets.get("access_key_id").cloned(),
            secret: r.secrets.get("secret_access_key").cloned(),
            token: r.secrets.get("session_token").cloned(),
        };
        access.check_region()
    }

    /// The access the standard AWS variables describe, for `s3://` paths without a connection.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<S3Access, S3Error> {
        let get = |names: &[&str]| names.iter().find_map(|n| env(n).filter(|v| !v.is_empty()));
        let endpoint = get(&["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"]);
        let path_style = match get(&["AWS_VIRTUAL_HOSTED_STYLE_REQUEST"]) {
            Some(v) => v != "true",
            None => endpoint.is_some(),
        };
        let access = S3Access {
            who: "the AWS_* environment (no `connection` on the task)".to_string(),
            endpoint,
            region: get(&["AWS_REGION", "AWS_DEFAULT_REGION"]),
            path_style,
            key_id: get(&["AWS_ACCESS_KEY_ID"]).map(Secret::new),
            secret: get(&["AWS_SECRET_ACCESS_KEY"]).map(Secret::new),
            token: get(&["AWS_SESSION_TOKEN"]).map(Secret::new),
        };
        access.check_region()
    }

    fn check_region(self) -> Result<S3Access, S3Error> {
        if self.endpoint.is_none() && self.region.is_none() {
            return Err(S3Error::NoRegion(self.who));
        }
        Ok(self)
    }

    /// "connection 'lake'" or the environment: what error messages name.
    pub fn who(&self) -> &str {
        &self.who
    }

    /// The endpoint requests go to, for messages.
    pub fn endpoint(&self) -> String {
        match (&self.endpoint, &self.region) {
            (Some(e), _) => e.clone(),
            (None, Some(r)) => format!("AWS S3 ({r})"),
            (None, None) => "AWS S3".to_string(),
        }
    }

    fn config(&self) -> Vec<(AmazonS3ConfigKey, String)> {
        let mut c = Vec::new();
        if let Some(e) = &self.endpoint {
            c.push((AmazonS3ConfigKey::Endpoint, e.clone()));
        }
        // With an endpoint and no region, signatures use us-east-1 (what local servers accept).
        c.push((AmazonS3ConfigKey::Region, self.region.clone().unwrap_or_else(|| "us-east-1".into())));
        c.push((AmazonS3ConfigKey::VirtualHostedStyleRequest, (!self.path_style).to_string()));
        if self.key_id.is_none() && self.secret.is_none() {
            // No credentials: anonymous requests (public buckets), never the cloud instance
            // metadata service object_store would otherwise ask (a link-local address).
            c.push((AmazonS3ConfigKey::SkipSignature, "true".to_string()));
        }
        for (key, value) in [
            (AmazonS3ConfigKey::AccessKeyId, &self.key_id),
            (AmazonS3ConfigKey::SecretAccessKey, &self.secret),
            (AmazonS3ConfigKey::Token, &self.token),
        ] {
            if let Some(v) = value {
                c.push((key, v.expose().to_string()));
            }
        }
        c
    }

    /// Polars' options for reading and writing through this access.
    pub fn cloud_options(&self) -> CloudOptions {
        CloudOptions::default().with_aws(self.config())
    }

    /// The plain form for a task process.
    pub fn to_wire(&self) -> WireAccess {
        let mut w = vec![("who".to_string(), self.who.clone()), ("path_style".into(), self.path_style.to_string())];
        for (k, v) in [("endpoint", &self.endpoint), ("region", &self.region)] {
            if let Some(v) = v {
                w.push((k.to_string(), v.clone()));
            }
        }
        for (k, v) in [("key_id", &self.key_id), ("secret", &self.secret), ("token", &self.token)] {
            if let Some(v) = v {
                w.push((k.to_string(), v.expose().to_string()));
            }
        }
        w
    }

    /// The access a task process received.
    pub fn from_wire(w: &WireAccess) -> S3Access {
        let get = |k: &str| w.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        S3Access {
            who: get("who").unwrap_or_default(),
            endpoint: get("endpoint"),
            region: get("region"),
            path_style: get("path_style").as_deref() == Some("true"),
            key_id: get("key_id").map(Secret::new),
            secret: get("secret").map(Secret::new),
            token: get("token").map(Secret::new),
        }
    }

    fn store(&self, bucket: &str) -> Result<AmazonS3, S3Error> {
        self.store_with(bucket, QUICK_TIMEOUT)
    }

    fn store_with(&self, bucket: &str, timeout: Duration) -> Result<AmazonS3, S3Error> {
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_allow_http(true)
            .with_client_options(
                ClientOptions::new().with_allow_http(true).with_connect_timeout(CONNECT_TIMEOUT).with_timeout(timeout),
            )
            .with_retry(RetryConfig { max_retries: 2, retry_timeout: Duration::from_secs(20), ..Default::default() });
        for (k, v) in self.config() {
            b = b.with_config(k, v);
        }
        b.build().map_err(|e| self.classify(bucket, "configuring the client", &e))
    }

    /// Sorts a client error into what the user can act on.
    fn classify(&self, bucket: &str, what: &str, e: &object_store::Error) -> S3Error {
        // The chain holds the server's code (NoSuchBucket, SignatureDoesNotMatch…) or the
        // connection error; object_store has no typed variants for most of them.
        let mut detail = e.to_string();
        let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
        while let Some(s) = src {
            let t = s.to_string();
            if !detail.contains(&t) {
                detail = format!("{detail}: {t}");
            }
            src = s.source();
        }
        let who = self.who.clone();
        let endpoint = self.endpoint();
        let short = shorten(&detail);
        if detail.contains("NoSuchBucket") {
            return S3Error::NoBucket { who, endpoint, bucket: bucket.into() };
        }
        let denied = ["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403 Forbidden", "Unauthenticated"];
        if denied.iter().any(|d| detail.contains(d)) || matches!(e, object_store::Error::PermissionDenied { .. }) {
            return S3Error::Denied { who, endpoint, bucket: bucket.into(), detail: short };
        }
        let unreachable =
            ["error sending request", "Connection refused", "connection refused", "dns error", "timed out", "tcp connect"];
        if unreachable.iter().any(|d| detail.contains(d)) {
            return S3Error::Unreachable { who, endpoint, detail: short };
        }
        S3Error::Other { who, what: what.to_string(), endpoint, detail: short }
    }
}

/// The first server message of a long error chain, cut to one readable line.
fn shorten(detail: &str) -> String {
    let code = ["<Code>", "<Message>"]
        .iter()
        .filter_map(|tag| {
            let start = detail.find(tag)? + tag.len();
            let end = detail[start..].find('<')? + start;
            Some(detail[start..end].to_string())
        })
        .collect::<Vec<_>>();
    if !code.is_empty() {
        return code.join(": ");
    }
    let one_line = detail.replace('\n', " ");
    if one_line.len() > 300 {
        let mut cut = 300;
        while !one_line.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}…", &one_line[..cut])
    } else {
        one_line
    }
}

/// Runs `f` to completion on a runtime of its own, on a thread of its own, so it works from
/// async and sync callers alike.
fn block_on<T: Send>(f: impl Future<Output = T> + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime for S3");
            rt.block_on(f)
        })
        .join()
        .expect("the S3 thread does not panic")
    })
}

/// One object as read: its URL and what identifies its content.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectId {
    /// `s3://bucket/key`.
    pub url: String,
    /// Size in bytes.
    pub size: u64,
    /// The server's ETag (changes with the content).
    pub etag: String,
}

/// Where a glob stops being literal.
fn glob_start(key: &str) -> Option<usize> {
    key.find(['*', '?', '[', '{'])
}

/// The objects `url` names, sorted by key: the object itself; every object under it when it is a
/// folder (the files its manifest lists, when Polder wrote it); or the objects a glob (`*`, `?`,
/// `[…]`, `**` across folders) matches. Names starting with `_` or `.` inside a folder are
/// markers, not data, and are skipped.
pub fn list(access: &S3Access, url: &str) -> Result<Vec<ObjectId>, S3Error> {
    let u = S3Url::parse(url)?;
    let store = access.store(&u.bucket)?;
    block_on(async {
        let err = |e: object_store::Error| access.classify(&u.bucket, &format!("listing {url}"), &e);
        let id = |m: &object_store::ObjectMeta| ObjectId {
            url: u.of(m.location.as_ref()),
            size: m.size,
            etag: m.e_tag.clone().unwrap_or_default(),
        };
        if let Some(at) = glob_start(&u.key) {
            let prefix = &u.key[..u.key[..at].rfind('/').map_or(0, |i| i + 1)];
            let pattern = glob::Pattern::new(&u.key).map_err(|e| S3Error::BadUrl(format!("{url} ({e})")))?;
            let opts = glob::MatchOptions { require_literal_separator: true, ..Default::default() };
            let all: Vec<_> = store.list(Some(&ObjectPath::from(prefix))).try_collect().await.map_err(err)?;
            let mut out: Vec<ObjectId> = all
                .iter()
                .filter(|m| pattern.matches_with(m.location.as_ref(), opts) && !is_marker(m.location.as_ref()))
                .map(id)
                .collect();
            out.sort_by(|a, b| a.url.cmp(&b.url));
            return Ok(out);
        }
        let key = u.key.trim_end_matches('/');
        if !key.is_empty() && !u.key.ends_with('/') {
            match store.head(&ObjectPath::from(key)).await {
                Ok(m) => return Ok(vec![id(&m)]),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(err(e)),
            }
        }
        // A folder: its manifest when Polder wrote it, else everything under it.
        let folder = ObjectPath::from(key);
        let all: Vec<_> = store.list(Some(&folder)).try_collect().await.map_err(err)?;
        let manifest_key = if key.is_empty() { MANIFEST.to_string() } else { format!("{key}/{MANIFEST}") };
        if all.iter().any(|m| m.location.as_ref() == manifest_key) {
            let m = read_manifest(&store, access, &u, &manifest_key).await?;
            let by_key: std::collections::HashMap<&str, &object_store::ObjectMeta> =
                all.iter().map(|o| (o.location.as_ref(), o)).collect();
            let mut out = Vec::with_capacity(m.files.len());
            for f in &m.files {
                let full = if key.is_empty() { f.clone() } else { format!("{key}/{f}") };
                let o =
                    by_key.get(full.as_str()).ok_or_else(|| S3Error::NotFound { who: access.who.clone(), url: u.of(&full) })?;
                out.push(id(o));
            }
            return Ok(out);
        }
        // No manifest: files a Polder sink uploaded are not published (its run was cut off before
        // the manifest), so they are not data yet; everything else is.
        let mut out: Vec<ObjectId> =
            all.iter().filter(|m| !is_marker(m.location.as_ref()) && !is_unpublished_part(m.location.as_ref())).map(id).collect();
        out.sort_by(|a, b| a.url.cmp(&b.url));
        Ok(out)
    })
}

/// Whether a key names a file of a partitioned sink (`part-YYYYMMDDTHHMMSS-xxxxxxxx-N.ext`).
fn is_unpublished_part(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    let Some(rest) = name.strip_prefix(PART_PREFIX) else { return false };
    let b = rest.as_bytes();
    b.len() > 25 && b[..8].iter().all(u8::is_ascii_digit) && b[8] == b'T' && b[15] == b'-' && b[24] == b'-'
}

/// Whether a key's file name marks rather than holds data (`_SUCCESS`, the manifest, `.tmp`).
fn is_marker(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    name.starts_with('_') || name.starts_with('.')
}

/// The files of a Polder-written partitioned output, relative to its folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// Always "polder-manifest-1".
    pub format: String,
    /// Partition columns.
    pub partition_by: Vec<String>,
    /// Object keys relative to the folder, e.g. `day=2024-01-01/part-…-0.parquet`.
    pub files: Vec<String>,
    /// When it was written (RFC 3339).
    pub written_at: String,
}

async fn read_manifest(store: &AmazonS3, access: &S3Access, u: &S3Url, key: &str) -> Result<Manifest, S3Error> {
    let err = |e: object_store::Error| access.classify(&u.bucket, &format!("reading {}", u.of(key)), &e);
    let bytes = store.get(&ObjectPath::from(key)).await.map_err(err)?.bytes().await.map_err(err)?;
    serde_json::from_slice(&bytes).map_err(|e| S3Error::Other {
        who: access.who.clone(),
        what: format!("reading {}", u.of(key)),
        endpoint: access.endpoint(),
        detail: format!("not a Polder manifest: {e}"),
    })
}

/// Answers in one line whether the endpoint answers, the credentials are accepted and the bucket
/// exists (lists at most one key).
pub fn check(access: &S3Access, bucket: &str) -> Result<(), S3Error> {
    let store = access.store(bucket)?;
    block_on(async {
        let mut stream = store.list(None);
        match stream.try_next().await {
            Ok(_) => Ok(()),
            Err(e) => Err(access.classify(bucket, "listing the bucket", &e)),
        }
    })
}

/// Publishes a partitioned output: uploads each local file to `folder/<relative key>`, then the
/// manifest naming exactly those files (one atomic put), then removes `part-*` objects under the
/// folder that the new manifest does not name (the previous output and what interrupted runs
/// left). Readers that go through the manifest see the old output or the new one, never a mix.
/// With `keep_previous` (append), the previous manifest's files stay and are listed again.
pub fn publish_partitioned(
    access: &S3Access,
    folder_url: &str,
    partition_by: &[String],
    files: &[(String, std::path::PathBuf)],
    keep_previous: bool,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<PublishReport, S3Error> {
    let u = S3Url::parse(folder_url)?;
    let folder = u.key.trim_end_matches('/').to_string();
    let full = |rel: &str| if folder.is_empty() { rel.to_string() } else { format!("{folder}/{rel}") };
    let store = access.store_with(&u.bucket, UPLOAD_TIMEOUT)?;
    block_on(async {
        let bucket = u.bucket.as_str();
        let err = |what: String| move |e: object_store::Error| access.classify(bucket, &what, &e);
        let manifest_key = full(MANIFEST);
        let previous = match store.head(&ObjectPath::from(manifest_key.as_str())).await {
            Ok(_) => Some(read_manifest(&store, access, &u, &manifest_key).await?),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => return Err(err(format!("reading {}", u.of(&manifest_key)))(e)),
        };
        let mut bytes = 0u64;
        for (rel, local) in files {
            if cancelled() {
                return Err(S3Error::Other {
                    who: access.who.clone(),
                    what: "upload".into(),
                    endpoint: access.endpoint(),
                    detail: "cancelled".into(),
                });
            }
            let key = ObjectPath::from(full(rel).as_str());
            bytes += upload(&store, &key, local).await.map_err(err(format!("uploading {}", u.of(key.as_ref()))))?;
        }
        let mut listed: Vec<String> = files.iter().map(|(rel, _)| rel.clone()).collect();
        if keep_previous {
            if let Some(p) = &previous {
                listed.splice(0..0, p.files.iter().cloned());
            }
        }
        let manifest = Manifest {
            format: "polder-manifest-1".into(),
            partition_by: partition_by.to_vec(),
            files: listed.clone(),
            written_at: chrono::Utc::now().to_rfc3339(),
        };
        let body = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
        store
            .put(&ObjectPath::from(manifest_key.as_str()), PutPayload::from(body))
            .await
            .map_err(err(format!("writing {}", u.of(&manifest_key))))?;
        // Only now is the old output unreferenced.
        let keep: std::collections::HashSet<String> = listed.iter().map(|r| full(r)).collect();
        let prefix = if folder.is_empty() { None } else { Some(ObjectPath::from(folder.as_str())) };
        let all: Vec<_> = store.list(prefix.as_ref()).try_collect().await.map_err(err(format!("listing {folder_url}")))?;
        let mut removed = 0;
        for o in all {
            let k = o.location.as_ref();
            let name = k.rsplit('/').next().unwrap_or(k);
            if name.starts_with(PART_PREFIX) && !keep.contains(k) {
                store.delete(&o.location).await.map_err(err(format!("removing {}", u.of(k))))?;
                removed += 1;
            }
        }
        Ok(PublishReport { files: files.len(), bytes, removed })
    })
}

/// Names of the files a partitioned sink writes start with this.
pub const PART_PREFIX: &str = "part-";

/// What [`publish_partitioned`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishReport {
    /// Files uploaded.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Superseded objects removed.
    pub removed: usize,
}

/// Uploads a local file; large ones in parts, so memory stays flat. An upload cut off before it
/// completes leaves no visible object (S3 shows a multipart object only once completed).
async fn upload(store: &AmazonS3, key: &ObjectPath, local: &std::path::Path) -> object_store::Result<u64> {
    const PART: usize = 16 << 20;
    let io = |e: std::io::Error| object_store::Error::Generic { store: "local file", source: Box::new(e) };
    let len = std::fs::metadata(local).map_err(io)?.len();
    if len as usize <= PART {
        let data = std::fs::read(local).map_err(io)?;
        store.put(key, PutPayload::from(data)).await?;
        return Ok(len);
    }
    let upload = store.put_multipart(key).await?;
    let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, PART);
    let mut file = std::fs::File::open(local).map_err(io)?;
    let mut buf = vec![0u8; PART];
    loop {
        let n = std::io::Read::read(&mut file, &mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        writer.wait_for_capacity(4).await?;
        writer.write(&buf[..n]);
    }
    writer.finish().await?;
    Ok(len)
}

/// Writes `body` to `url`, replacing any object there (one atomic put).
pub fn put(access: &S3Access, url: &str, body: Vec<u8>) -> Result<(), S3Error> {
    let u = S3Url::parse(url)?;
    let store = access.store(&u.bucket)?;
    block_on(async {
        store
            .put(&ObjectPath::from(u.key.as_str()), PutPayload::from(body))
            .await
            .map(|_| ())
            .map_err(|e| access.classify(&u.bucket, &format!("writing {url}"), &e))
    })
}

/// Writes `body` to `url` only if no object is there (`If-None-Match: *`): Ok(true) when this
/// call created it, Ok(false) when one was already there (a redone flush).
pub fn put_if_absent(access: &S3Access, url: &str, body: Vec<u8>) -> Result<bool, S3Error> {
    let u = S3Url::parse(url)?;
    let store = access.store_with(&u.bucket, UPLOAD_TIMEOUT)?;
    block_on(async {
        let opts = object_store::PutOptions { mode: object_store::PutMode::Create, ..Default::default() };
        match store.put_opts(&ObjectPath::from(u.key.as_str()), PutPayload::from(body), opts).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => Ok(false),
            Err(e) => Err(access.classify(&u.bucket, &format!("writing {url}"), &e)),
        }
    })
}

/// Uploads a local file to `url` (in parts when large), replacing any object there.
pub fn upload_file(access: &S3Access, url: &str, local: &std::path::Path) -> Result<u64, S3Error> {
    let u = S3Url::parse(url)?;
    let store = access.store_with(&u.bucket, UPLOAD_TIMEOUT)?;
    block_on(async {
        upload(&store, &ObjectPath::from(u.key.as_str()), local)
            .await
            .map_err(|e| access.classify(&u.bucket, &format!("uploading {url}"), &e))
    })
}

/// Removes the object at `url` (absent is fine).
pub fn delete(access: &S3Access, url: &str) -> Result<(), S3Error> {
    let u = S3Url::parse(url)?;
    let store = access.store(&u.bucket)?;
    block_on(async {
        match store.delete(&ObjectPath::from(u.key.as_str())).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(access.classify(&u.bucket, &format!("removing {url}"), &e)),
        }
    })
}

/// Reads a whole (small) object.
pub fn get(access: &S3Access, url: &str) -> Result<Vec<u8>, S3Error> {
    let u = S3Url::parse(url)?;
    let store = access.store(&u.bucket)?;
    block_on(async {
        let err = |e: object_store::Error| match e {
            object_store::Error::NotFound { .. } => S3Error::NotFound { who: access.who.clone(), url: url.to_string() },
            e => access.classify(&u.bucket, &format!("reading {url}"), &e),
        };
        let r = store.get(&ObjectPath::from(u.key.as_str())).await.map_err(err)?;
        Ok(r.bytes().await.map_err(err)?.to_vec())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_refuse_what_is_not_a_bucket() {
        assert_eq!(S3Url::parse("s3://lake/raw/a.json").unwrap(), S3Url { bucket: "lake".into(), key: "raw/a.json".into() });
        assert_eq!(S3Url::parse("s3://lake").unwrap().key, "");
        assert!(S3Url::parse("s3:///x").is_err());
        assert!(S3Url::parse("s3://la*/x").is_err());
        assert!(S3Url::parse("/tmp/x").is_err());
        assert_eq!(glob_start("raw/2024/*.json"), Some(9));
        assert!(is_marker("gold/_polder_manifest.json") && is_marker("x/.tmp") && !is_marker("gold/day=1/part-a.parquet"));
        assert!(is_unpublished_part("gold/day=1/part-20240101T120000-0a1b2c3d-7.parquet"));
        assert!(!is_unpublished_part("gold/day=1/part-00000.parquet") && !is_unpublished_part("x/data_0.parquet"));
    }

    #[test]
    fn environment_access_needs_an_endpoint_or_a_region_and_never_prints_secrets() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |n: &str| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string())
        };
        let none = S3Access::from_env(&env(&[("AWS_SECRET_ACCESS_KEY", "hunter2")])).unwrap_err();
        assert!(matches!(none, S3Error::NoRegion(_)), "{none}");
        let a = S3Access::from_env(&env(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_ACCESS_KEY_ID", "AKIA1"),
            ("AWS_SECRET_ACCESS_KEY", "hunter2"),
        ]))
        .unwrap();
        assert!(a.path_style);
        assert!(!format!("{a:?}").contains("hunter2"));
        let cfg = a.config();
        assert!(cfg.contains(&(AmazonS3ConfigKey::Region, "us-east-1".into())));
        assert!(cfg.contains(&(AmazonS3ConfigKey::SecretAccessKey, "hunter2".into())));
        let back = S3Access::from_wire(&a.to_wire());
        assert_eq!(back.config(), cfg);
        assert_eq!(back.who(), a.who());
    }

    #[test]
    fn server_codes_become_one_short_line() {
        let xml = "Error performing list: response error \"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>gone</Message></Error>\"";
        assert_eq!(shorten(xml), "NoSuchKey: gone");
        assert_eq!(shorten("a\nb"), "a b");
    }
}
