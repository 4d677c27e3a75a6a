//! A client for a runner's HTTP API (deploy and the `remote` commands).

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// A runner at `url`, reached with `token`.
pub struct Remote {
    url: String,
    token: String,
    agent: ureq::Agent,
}

impl Remote {
    /// The runner at `url`; the token from `--token` or `POLDER_TOKEN`.
    pub fn new(url: &str, token: Option<String>) -> Result<Remote> {
        let token = token
            .or_else(|| std::env::var("POLDER_TOKEN").ok())
            .filter(|t| !t.trim().is_empty())
            .context("no API token: pass --token or set POLDER_TOKEN (`polder serve` prints it on first start)")?;
        if url.starts_with("https://") {
            bail!("https is not supported by this build of polder yet; reach the runner over an SSH tunnel or plain http on a trusted network");
        }
        let config = ureq::Agent::config_builder().http_status_as_error(false).build();
        Ok(Remote { url: url.trim_end_matches('/').to_string(), token: token.trim().to_string(), agent: config.into() })
    }

    fn check(&self, what: &str, mut resp: ureq::http::Response<ureq::Body>) -> Result<String> {
        let status = resp.status();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        if status.is_success() {
            return Ok(text);
        }
        let message =
            serde_json::from_str::<Value>(&text).ok().and_then(|v| v["message"].as_str().map(str::to_string)).unwrap_or(text);
        bail!("{what} failed ({status}): {message}")
    }

    /// GET a JSON document.
    pub fn get_json(&self, path: &str) -> Result<Value> {
        Ok(serde_json::from_str(&self.get_text(path)?)?)
    }

    /// GET text.
    pub fn get_text(&self, path: &str) -> Result<String> {
        let resp = self
            .agent
            .get(format!("{}{path}", self.url))
            .header("Authorization", format!("Bearer {}", self.token))
            .call()
            .with_context(|| format!("cannot reach the runner at {}", self.url))?;
        self.check(&format!("GET {path}"), resp)
    }

    /// POST a body with a content type; returns the JSON answer.
    pub fn post(&self, path: &str, content_type: &str, body: &[u8]) -> Result<Value> {
        let resp = self
            .agent
            .post(format!("{}{path}", self.url))
            .header("Authorization", format!("Bearer {}", self.token))
            .content_type(content_type)
            .send(body)
            .with_context(|| format!("cannot reach the runner at {}", self.url))?;
        Ok(serde_json::from_str(&self.check(&format!("POST {path}"), resp)?)?)
    }
}
