//! Pipeline parameters: `{{ name }}` placeholders in paths, SQL and commands.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;

use crate::error::{Error, Result};
use crate::spec::Pipeline;

/// The built-in parameter a scheduler sets to the logical date of a run (`YYYY-MM-DD`).
pub const RUN_DATE: &str = "run_date";

/// Resolved parameter values of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Params(pub BTreeMap<String, String>);

/// A `{{ name }}` placeholder naming no parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown parameter `{name}` in `{{{{ {name} }}}}`; declare it under [params] in pipeline.toml")]
pub struct UnknownParam {
    /// The name used.
    pub name: String,
    /// Byte offset of the placeholder in the text.
    pub offset: usize,
}

fn placeholder() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}").expect("valid regex"))
}

impl Params {
    /// The pipeline's defaults, with `overrides` (`name=value` pairs) applied.
    /// `run_date` defaults to today (UTC) unless the pipeline declares it.
    pub fn resolve(pipeline: &Pipeline, overrides: &[(String, String)]) -> Result<Params> {
        let mut map: BTreeMap<String, String> = pipeline.params.iter().cloned().collect();
        map.entry(RUN_DATE.to_string()).or_insert_with(|| chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string());
        for (k, v) in overrides {
            if !map.contains_key(k) {
                let known: Vec<&str> = map.keys().map(String::as_str).collect();
                return Err(Error::Invalid(format!(
                    "unknown parameter `{k}` for pipeline '{}'; it declares: {}",
                    pipeline.name,
                    known.join(", ")
                )));
            }
            map.insert(k.clone(), v.clone());
        }
        Ok(Params(map))
    }

    /// Replaces every `{{ name }}` in `text` with its value.
    pub fn render(&self, text: &str) -> Result<String, UnknownParam> {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for caps in placeholder().captures_iter(text) {
            let whole = caps.get(0).expect("match");
            let name = &caps[1];
            let value = self.0.get(name).ok_or_else(|| UnknownParam { name: name.to_string(), offset: whole.start() })?;
            out.push_str(&text[last..whole.start()]);
            out.push_str(value);
            last = whole.end();
        }
        out.push_str(&text[last..]);
        Ok(out)
    }
}

/// Parses `name=value` (as given on the command line).
pub fn parse_assignment(s: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(Error::Invalid(format!("parameter `{s}` must look like name=value"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_reports_unknown_names() {
        let p = Params([("run_date".to_string(), "2023-04-30".to_string())].into());
        assert_eq!(p.render("d = '{{ run_date }}' AND '{{run_date}}'").unwrap(), "d = '2023-04-30' AND '2023-04-30'");
        let err = p.render("x {{ nope }}").unwrap_err();
        assert_eq!((err.name.as_str(), err.offset), ("nope", 2));
    }

    #[test]
    fn assignment_needs_a_name() {
        assert_eq!(parse_assignment("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_assignment("=x").is_err());
        assert!(parse_assignment("novalue").is_err());
    }
}
