//! Typed reading of TOML tables that records every problem with its line and column.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use toml_edit::{Item, TableLike, Value};

use crate::error::{LineIndex, Location, SpecProblem};
use crate::spec::model::Literal;

/// Collects problems found while reading one file.
pub(crate) struct Problems<'a> {
    pub file: &'a Path,
    pub text: &'a str,
    pub list: Vec<SpecProblem>,
    lines: LineIndex,
}

impl<'a> Problems<'a> {
    pub fn new(file: &'a Path, text: &'a str) -> Self {
        Problems { file, text, list: Vec::new(), lines: LineIndex::new(text) }
    }

    pub fn location(&self, span: Option<Range<usize>>) -> Option<Location> {
        span.map(|s| self.lines.locate(self.file, self.text, s.start))
    }

    pub fn push(&mut self, span: Option<Range<usize>>, message: impl Into<String>) {
        let location = self.location(span);
        self.list.push(SpecProblem { location, message: message.into() });
    }
}

/// A table being read: remembers which keys were asked for, so the rest can be reported as unknown.
pub(crate) struct Fields<'t> {
    table: &'t dyn TableLike,
    span: Option<Range<usize>>,
    /// How the table is named in messages: "task 'bronze'", "[pipeline]".
    pub what: String,
    read: Vec<&'static str>,
}

impl<'t> Fields<'t> {
    pub fn new(table: &'t dyn TableLike, span: Option<Range<usize>>, what: impl Into<String>) -> Self {
        Fields { table, span, what: what.into(), read: Vec::new() }
    }

    pub fn span(&self) -> Option<Range<usize>> {
        self.span.clone()
    }

    /// The span of `key`'s value (or of the key when the value has none).
    pub fn span_of(&self, key: &str) -> Option<Range<usize>> {
        let (k, item) = self.table.get_key_value(key)?;
        item.span().or_else(|| k.span())
    }

    pub fn item(&mut self, key: &'static str) -> Option<&'t Item> {
        self.read.push(key);
        self.table.get(key)
    }

    /// A string value without marking the key as read.
    pub fn peek_str(&self, key: &str) -> Option<&'t str> {
        self.table.get(key).and_then(|i| i.as_str())
    }

    /// A boolean value without marking the key as read.
    pub fn peek_bool(&self, key: &str) -> Option<bool> {
        self.table.get(key).and_then(|i| i.as_bool())
    }

    pub fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    fn wrong(&self, p: &mut Problems, key: &str, item: &Item, expected: &str) {
        p.push(item.span(), format!("`{key}` in {} must be {expected}", self.what));
    }

    pub fn str(&mut self, p: &mut Problems, key: &'static str) -> Option<String> {
        let item = self.item(key)?;
        match item.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.wrong(p, key, item, "a string");
                None
            }
        }
    }

    pub fn req_str(&mut self, p: &mut Problems, key: &'static str) -> Option<String> {
        if !self.has(key) {
            self.read.push(key);
            p.push(self.span(), format!("{} is missing `{key}`", self.what));
            return None;
        }
        self.str(p, key)
    }

    /// A string that must be one of `allowed`.
    pub fn choice(&mut self, p: &mut Problems, key: &'static str, allowed: &[&str]) -> Option<String> {
        let s = self.str(p, key)?;
        if allowed.contains(&s.as_str()) {
            return Some(s);
        }
        let hint = suggest(&s, allowed.iter().copied()).map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default();
        p.push(self.span_of(key), format!("unknown {key} `{s}` in {}{hint}; expected one of: {}", self.what, allowed.join(", ")));
        None
    }

    pub fn bool(&mut self, p: &mut Problems, key: &'static str) -> Option<bool> {
        let item = self.item(key)?;
        match item.as_bool() {
            Some(b) => Some(b),
            None => {
                self.wrong(p, key, item, "true or false");
                None
            }
        }
    }

    pub fn uint(&mut self, p: &mut Problems, key: &'static str) -> Option<u64> {
        let item = self.item(key)?;
        match item.as_integer() {
            Some(i) if i >= 0 => Some(i as u64),
            _ => {
                self.wrong(p, key, item, "a non-negative integer");
                None
            }
        }
    }

    /// Seconds given as an integer or a float.
    pub fn secs(&mut self, p: &mut Problems, key: &'static str) -> Option<Duration> {
        let item = self.item(key)?;
        let v = item.as_integer().map(|i| i as f64).or_else(|| item.as_float());
        match v {
            Some(s) if s >= 0.0 && s.is_finite() => Some(Duration::from_secs_f64(s)),
            _ => {
                self.wrong(p, key, item, "a number of seconds (>= 0)");
                None
            }
        }
    }

    /// A size such as `"4GB"` (see [`crate::memory::parse_size`]), in bytes.
    pub fn size(&mut self, p: &mut Problems, key: &'static str) -> Option<u64> {
        let item = self.item(key)?;
        let Some(text) = item.as_str() else {
            self.wrong(p, key, item, "a size in quotes, e.g. \"4GB\" or \"512MiB\"");
            return None;
        };
        match crate::memory::parse_size(text) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                p.push(item.span(), format!("`{key}` in {}: {e}", self.what));
                None
            }
        }
    }

    /// A size of data such as `"16MB"` or `"1KB"` (no minimum), in bytes.
    pub fn bytes(&mut self, p: &mut Problems, key: &'static str) -> Option<u64> {
        let item = self.item(key)?;
        let Some(text) = item.as_str() else {
            self.wrong(p, key, item, "a size in quotes, e.g. \"16MB\" or \"512KiB\"");
            return None;
        };
        match crate::memory::parse_bytes(text) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                p.push(item.span(), format!("`{key}` in {}: {e}", self.what));
                None
            }
        }
    }

    pub fn str_list(&mut self, p: &mut Problems, key: &'static str) -> Option<Vec<String>> {
        let item = self.item(key)?;
        let Some(arr) = item.as_array() else {
            self.wrong(p, key, item, "an array of strings");
            return None;
        };
        let mut out = Vec::new();
        for v in arr.iter() {
            match v.as_str() {
                Some(s) => out.push(s.to_string()),
                None => p.push(v.span(), format!("`{key}` in {} must contain only strings", self.what)),
            }
        }
        Some(out)
    }

    /// A table of string values (`env = { A = "1" }`), in file order.
    pub fn str_map(&mut self, p: &mut Problems, key: &'static str) -> Option<Vec<(String, String)>> {
        let item = self.item(key)?;
        let Some(t) = item.as_table_like() else {
            self.wrong(p, key, item, "a table of strings");
            return None;
        };
        let mut out = Vec::new();
        for (k, v) in t.iter() {
            match scalar_to_string(v) {
                Some(s) => out.push((k.to_string(), s)),
                None => p.push(v.span(), format!("`{key}.{k}` in {} must be a string or number", self.what)),
            }
        }
        Some(out)
    }

    pub fn literal(&mut self, p: &mut Problems, key: &'static str) -> Option<Literal> {
        let item = self.item(key)?;
        match item.as_value().and_then(literal) {
            Some(l) => Some(l),
            None => {
                self.wrong(p, key, item, "a string, number or boolean");
                None
            }
        }
    }

    pub fn literal_list(&mut self, p: &mut Problems, key: &'static str) -> Option<Vec<Literal>> {
        let item = self.item(key)?;
        let Some(arr) = item.as_array() else {
            self.wrong(p, key, item, "an array");
            return None;
        };
        let mut out = Vec::new();
        for v in arr.iter() {
            match literal(v) {
                Some(l) => out.push(l),
                None => p.push(v.span(), format!("`{key}` in {} must contain strings, numbers or booleans", self.what)),
            }
        }
        Some(out)
    }

    /// Reports every key that was never asked for.
    pub fn finish(self, p: &mut Problems) {
        for (k, item) in self.table.iter() {
            if self.read.contains(&k) {
                continue;
            }
            let span = self.table.get_key_value(k).and_then(|(key, _)| key.span()).or_else(|| item.span());
            let hint = suggest(k, self.read.iter().copied()).map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default();
            let mut known: Vec<&str> = self.read.clone();
            known.sort_unstable();
            known.dedup();
            p.push(span, format!("unknown field `{k}` in {}{hint}; known fields: {}", self.what, known.join(", ")));
        }
    }
}

fn literal(v: &Value) -> Option<Literal> {
    match v {
        Value::String(s) => Some(Literal::Str(s.value().clone())),
        Value::Integer(i) => Some(Literal::Int(*i.value())),
        Value::Float(f) => Some(Literal::Float(*f.value())),
        Value::Boolean(b) => Some(Literal::Bool(*b.value())),
        _ => None,
    }
}

/// A scalar item as text (strings as-is, numbers and booleans printed).
pub(crate) fn scalar_to_string(item: &Item) -> Option<String> {
    match item.as_value()? {
        Value::String(s) => Some(s.value().clone()),
        Value::Integer(i) => Some(i.value().to_string()),
        Value::Float(f) => Some(f.value().to_string()),
        Value::Boolean(b) => Some(b.value().to_string()),
        Value::Datetime(d) => Some(d.value().to_string()),
        _ => None,
    }
}

/// The closest candidate to a misspelt name, if it is close enough.
pub(crate) fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d > 0)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
