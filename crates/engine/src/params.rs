//! Pipeline parameters: typed values for `{{ name }}` placeholders in paths, SQL and commands.
//!
//! A parameter is a value, never code. In SQL a placeholder becomes a typed literal (or, inside a
//! quoted string or identifier, the escaped value), and the rendered statement must tokenize to
//! the same shape as with a harmless value. Shell commands get parameters as environment
//! variables (`$POLDER_PARAM_NAME`); a placeholder in a command is rewritten to a quoted expansion
//! of that variable. Plain text substitution is left only for paths, which are confined to the
//! pipeline's allowed folders after rendering.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::error::{Error, Result};
use crate::spec::{Pipeline, SqlEngine};

/// The built-in parameter a scheduler sets to the logical date of a run (`YYYY-MM-DD`).
pub const RUN_DATE: &str = "run_date";

/// Longest parameter value accepted, in bytes.
pub const MAX_VALUE_LEN: usize = 4096;

/// The type a parameter's values must have; checked when a run is triggered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ParamType {
    /// Any text; a quoted string literal in SQL.
    String,
    /// A 64-bit integer.
    Int,
    /// A finite floating-point number.
    Float,
    /// A calendar date, `YYYY-MM-DD`; `DATE '…'` in SQL.
    Date,
    /// `true` or `false`.
    Bool,
}

impl ParamType {
    /// Names accepted in `type = "…"`.
    pub const NAMES: [&'static str; 5] = ["string", "int", "float", "date", "bool"];

    /// The type named `s` in pipeline.toml.
    pub fn parse(s: &str) -> Option<ParamType> {
        Some(match s {
            "string" => ParamType::String,
            "int" => ParamType::Int,
            "float" => ParamType::Float,
            "date" => ParamType::Date,
            "bool" => ParamType::Bool,
            _ => return None,
        })
    }

    /// The name used in pipeline.toml and in errors.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::Date => "date",
            ParamType::Bool => "bool",
        }
    }

    /// Checks `raw` and returns its canonical text (dates zero-padded, numbers as Rust prints them).
    pub fn check(self, raw: &str) -> std::result::Result<String, String> {
        if raw.len() > MAX_VALUE_LEN {
            return Err(format!("is {} bytes long; values are limited to {MAX_VALUE_LEN}", raw.len()));
        }
        if raw.contains('\0') {
            return Err("contains a NUL character".into());
        }
        let expected = match self {
            ParamType::String => return Ok(raw.to_string()),
            ParamType::Int => raw.parse::<i64>().map(|v| v.to_string()).ok(),
            ParamType::Float => raw.parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| v.to_string()),
            ParamType::Date => chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().map(|d| d.format("%Y-%m-%d").to_string()),
            ParamType::Bool => match raw {
                "true" | "false" => Some(raw.to_string()),
                _ => None,
            },
        };
        expected.ok_or_else(|| {
            let what = match self {
                ParamType::Int => "an integer (e.g. 42)",
                ParamType::Float => "a finite number (e.g. 2.5)",
                ParamType::Date => "a date written YYYY-MM-DD",
                ParamType::Bool => "true or false",
                ParamType::String => unreachable!("strings always pass"),
            };
            format!("must be {what}, got {}", shorten(raw))
        })
    }
}

/// One declared parameter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ParamSpec {
    /// Its name, as used in `{{ name }}`.
    pub name: String,
    /// The type every value must have.
    #[serde(rename = "type")]
    pub ty: ParamType,
    /// The value used when a run does not set one (canonical text); `None` makes it required.
    pub default: Option<String>,
    /// Free text shown in the UI's run dialog.
    pub description: Option<String>,
}

/// The environment variable a shell task reads parameter `name` from.
pub fn env_name(name: &str) -> String {
    format!("POLDER_PARAM_{}", name.to_ascii_uppercase())
}

/// Resolved, type-checked parameter values of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    values: BTreeMap<String, (ParamType, String)>,
}

impl serde::Serialize for Params {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.values.iter().map(|(k, (_, v))| (k, v)))
    }
}

/// Why a placeholder could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The placeholder names no parameter.
    #[error("unknown parameter `{name}` in `{{{{ {name} }}}}`; declare it under [params] in pipeline.toml")]
    Unknown {
        /// The name used.
        name: String,
        /// Byte offset of the placeholder in the text.
        offset: usize,
    },
    /// The placeholder stands where its value cannot be passed safely.
    #[error("`{{{{ {name} }}}}` {reason}")]
    Placement {
        /// The parameter.
        name: String,
        /// Byte offset of the placeholder in the text.
        offset: usize,
        /// Where it stands and what to write instead.
        reason: &'static str,
    },
    /// The value would change the statement's tokens (it breaks out of its quotes).
    #[error("the value of parameter `{name}` would change the SQL statement's structure, so it was refused; parameters are values, not SQL")]
    Shape {
        /// The parameter.
        name: String,
        /// Byte offset of the placeholder in the text.
        offset: usize,
    },
}

impl RenderError {
    /// Byte offset of the placeholder concerned.
    pub fn offset(&self) -> usize {
        match self {
            RenderError::Unknown { offset, .. } | RenderError::Placement { offset, .. } | RenderError::Shape { offset, .. } => {
                *offset
            }
        }
    }
}

fn placeholder() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}").expect("valid regex"))
}

fn placeholder_at(text: &str, at: usize) -> Option<(Range<usize>, &str)> {
    if !text[at..].starts_with("{{") {
        return None;
    }
    let caps = placeholder().captures_at(text, at)?;
    let whole = caps.get(0)?;
    (whole.start() == at).then(|| (whole.range(), caps.get(1).map_or("", |m| m.as_str())))
}

impl Params {
    /// The pipeline's defaults with `overrides` (`name=value` pairs) applied, every value checked
    /// against its declared type. `run_date` defaults to today (UTC) unless the pipeline sets it.
    pub fn resolve(pipeline: &Pipeline, overrides: &[(String, String)]) -> Result<Params> {
        let mut values: BTreeMap<String, (ParamType, Option<String>)> =
            pipeline.params.iter().map(|p| (p.name.clone(), (p.ty, p.default.clone()))).collect();
        values.entry(RUN_DATE.to_string()).or_insert_with(|| (ParamType::Date, Some(today())));
        for (k, v) in overrides {
            let Some((ty, slot)) = values.get_mut(k) else {
                let known: Vec<&str> = values.keys().map(String::as_str).collect();
                return Err(Error::Invalid(format!(
                    "unknown parameter `{k}` for pipeline '{}'; it declares: {}",
                    pipeline.name,
                    known.join(", ")
                )));
            };
            let canonical = ty.check(v).map_err(|why| {
                Error::Invalid(format!("parameter `{k}` of pipeline '{}' is a {}: it {why}", pipeline.name, ty.as_str()))
            })?;
            *slot = Some(canonical);
        }
        let mut out = BTreeMap::new();
        for (k, (ty, v)) in values {
            let v = v.ok_or_else(|| {
                Error::Invalid(format!(
                    "parameter `{k}` of pipeline '{}' has no default; give it a value (--param {k}=… or \"params\": {{\"{k}\": …}})",
                    pipeline.name
                ))
            })?;
            out.insert(k, (ty, v));
        }
        Ok(Params { values: out })
    }

    /// The defaults, with a sample value of the type for required parameters: for checking a
    /// pipeline's files and for previews.
    pub fn samples(pipeline: &Pipeline) -> Params {
        let mut values: BTreeMap<String, (ParamType, String)> = pipeline
            .params
            .iter()
            .map(|p| (p.name.clone(), (p.ty, p.default.clone().unwrap_or_else(|| neutral(p.ty, "").to_string()))))
            .collect();
        values.entry(RUN_DATE.to_string()).or_insert_with(|| (ParamType::Date, today()));
        Params { values }
    }

    /// The value of `name`, as text.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(|(_, v)| v.as_str())
    }

    /// Names and values as text, sorted by name.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.values.iter().map(|(k, (_, v))| (k.clone(), v.clone())).collect()
    }

    /// `(name, type, value)` for every parameter, sorted by name: how Python tasks receive them.
    pub fn typed(&self) -> Vec<(String, String, String)> {
        self.values.iter().map(|(k, (t, v))| (k.clone(), t.as_str().to_string(), v.clone())).collect()
    }

    /// `POLDER_PARAM_NAME=value` for every parameter: how shell tasks receive them.
    pub fn env(&self) -> Vec<(String, String)> {
        self.values.iter().map(|(k, (_, v))| (env_name(k), v.clone())).collect()
    }

    fn lookup(&self, name: &str, offset: usize) -> std::result::Result<&(ParamType, String), RenderError> {
        self.values.get(name).ok_or_else(|| RenderError::Unknown { name: name.to_string(), offset })
    }

    /// Replaces every `{{ name }}` in `text` with its value, as is. Only for text whose result is
    /// checked afterwards (file paths, which must stay inside allowed folders).
    pub fn render_text(&self, text: &str) -> std::result::Result<String, RenderError> {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for caps in placeholder().captures_iter(text) {
            let whole = caps.get(0).expect("match");
            let (_, value) = self.lookup(&caps[1], whole.start())?;
            out.push_str(&text[last..whole.start()]);
            out.push_str(value);
            last = whole.end();
        }
        out.push_str(&text[last..]);
        Ok(out)
    }

    /// Renders the placeholders of a SQL text for `engine`: a typed literal in code, the escaped
    /// value inside a quoted string or identifier, nothing in comments. Refuses a value that would
    /// change the statement's tokens.
    pub fn render_sql(&self, sql: &str, engine: SqlEngine) -> std::result::Result<String, RenderError> {
        self.render_spots(sql, &sql_placeholders(sql), engine)
    }

    fn render_spots(&self, sql: &str, spots: &[SqlSpot], engine: SqlEngine) -> std::result::Result<String, RenderError> {
        if spots.is_empty() {
            return Ok(sql.to_string());
        }
        let rendered = self.fill_sql(sql, spots, |_| false)?;
        // Our lexer and the engine's could disagree on where a quote ends; comparing tokens with
        // a harmless value in every spot catches a value that escapes either way.
        let Ok(expected) = token_shape(&self.fill_sql(sql, spots, |_| true)?, engine) else {
            return Ok(rendered); // broken SQL either way: the engine reports it
        };
        if token_shape(&rendered, engine).ok().as_ref() == Some(&expected) {
            return Ok(rendered);
        }
        let culprit = spots
            .iter()
            .find(|s| {
                let alone = self.fill_sql(sql, spots, |name| name != s.name);
                alone.ok().and_then(|t| token_shape(&t, engine).ok()).as_ref() != Some(&expected)
            })
            .unwrap_or(&spots[0]);
        Err(RenderError::Shape { name: culprit.name.clone(), offset: culprit.range.start })
    }

    /// The SQL with each spot filled: the parameter's value, or a harmless one where `neutral(name)`.
    fn fill_sql(
        &self,
        sql: &str,
        spots: &[SqlSpot],
        neutral_for: impl Fn(&str) -> bool,
    ) -> std::result::Result<String, RenderError> {
        let mut out = String::with_capacity(sql.len() + 16);
        let mut last = 0;
        for s in spots {
            out.push_str(&sql[last..s.range.start]);
            last = s.range.end;
            if s.context == SqlContext::Comment {
                out.push_str(&sql[s.range.clone()]);
                continue;
            }
            let (ty, stored) = self.lookup(&s.name, s.range.start)?;
            let v = if neutral_for(&s.name) { neutral(*ty, stored) } else { stored.as_str() };
            match s.context {
                SqlContext::Code => out.push_str(&sql_literal(*ty, v)),
                SqlContext::String { backslash_escapes } => {
                    let escaped = v.replace('\'', "''");
                    out.push_str(&if backslash_escapes { escaped.replace('\\', "\\\\") } else { escaped });
                }
                SqlContext::Identifier => out.push_str(&v.replace('"', "\"\"")),
                SqlContext::DollarQuoted => {
                    return Err(RenderError::Placement {
                        name: s.name.clone(),
                        offset: s.range.start,
                        reason: "stands in a $$-quoted string, where a value cannot be escaped; use a '…' string instead",
                    })
                }
                SqlContext::Comment => unreachable!("handled above"),
            }
        }
        out.push_str(&sql[last..]);
        Ok(out)
    }

    /// Rewrites each `{{ name }}` of a shell command to a quoted expansion of `$POLDER_PARAM_NAME`,
    /// so the shell never parses a value. The variables come from [`Params::env`].
    pub fn render_shell(&self, command: &str) -> std::result::Result<String, RenderError> {
        let mut out = String::with_capacity(command.len());
        let mut last = 0;
        for spot in shell_placeholders(command) {
            out.push_str(&command[last..spot.range.start]);
            last = spot.range.end;
            let var = env_name(&spot.name);
            match spot.context {
                ShellContext::Comment => {
                    out.push_str(&command[spot.range.clone()]);
                    continue;
                }
                ShellContext::Bare => out.push_str(&format!("\"${{{var}}}\"")),
                ShellContext::Double => out.push_str(&format!("${{{var}}}")),
                ShellContext::Single => {
                    return Err(RenderError::Placement {
                        name: spot.name,
                        offset: spot.range.start,
                        reason: "stands inside '…' quotes in a shell command, where the shell expands nothing; \
                                 use \"…\" quotes, or read the value from $POLDER_PARAM_<NAME>",
                    })
                }
            }
            self.lookup(&spot.name, spot.range.start)?;
        }
        out.push_str(&command[last..]);
        Ok(out)
    }
}

/// A harmless value of the same type and sign as `v`: what the rendered SQL is compared against.
fn neutral(ty: ParamType, v: &str) -> &'static str {
    let negative = v.starts_with('-');
    match ty {
        ParamType::String => "x",
        ParamType::Int if negative => "-1",
        ParamType::Int => "1",
        ParamType::Float if negative => "-1.5",
        ParamType::Float => "1.5",
        ParamType::Date => "2000-01-01",
        ParamType::Bool => "true",
    }
}

/// The typed SQL literal of a checked value. Negative integers are parenthesized: `x - -1` would
/// otherwise start a `--` comment.
fn sql_literal(ty: ParamType, v: &str) -> String {
    match ty {
        ParamType::String => format!("'{}'", v.replace('\'', "''")),
        ParamType::Int if v.starts_with('-') => format!("({v})"),
        ParamType::Int => v.to_string(),
        // A bare `0.5` is a DECIMAL in DuckDB; a float parameter is a DOUBLE on both engines.
        ParamType::Float => format!("CAST({v} AS DOUBLE)"),
        ParamType::Date => format!("DATE '{v}'"),
        ParamType::Bool => v.to_ascii_uppercase(),
    }
}

/// The statement's tokens without their text: kinds, keywords and operators, no literal values.
fn token_shape(sql: &str, engine: SqlEngine) -> std::result::Result<Vec<String>, ()> {
    let dialect = crate::sqlrefs::dialect(engine);
    let tokens = Tokenizer::new(dialect, sql).tokenize().map_err(|_| ())?;
    Ok(tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .map(|t| match t {
            Token::SingleQuotedString(_) => "'str'".to_string(),
            Token::Number(..) => "num".to_string(),
            Token::Word(w) if w.quote_style.is_some() => "\"ident\"".to_string(),
            other => format!("{other}").to_ascii_lowercase(),
        })
        .collect())
}

/// Where a SQL placeholder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SqlContext {
    Code,
    String { backslash_escapes: bool },
    Identifier,
    Comment,
    DollarQuoted,
}

#[derive(Debug, Clone)]
struct SqlSpot {
    range: Range<usize>,
    name: String,
    context: SqlContext,
}

/// Every placeholder of a SQL text with the lexical context it stands in. Follows the lexing of
/// DuckDB and Polars (sqlparser): `''` escapes, `E'…'` backslash escapes, nested block comments,
/// `$tag$` strings.
fn sql_placeholders(sql: &str) -> Vec<SqlSpot> {
    #[derive(PartialEq)]
    enum State {
        Code,
        Str { backslash: bool },
        Ident,
        Line,
        Block(u32),
        Dollar(usize, usize),
    }
    let b = sql.as_bytes();
    let ident_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut spots = Vec::new();
    let mut state = State::Code;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'{' {
            if let Some((range, name)) = placeholder_at(sql, i) {
                let context = match state {
                    State::Code => SqlContext::Code,
                    State::Str { backslash } => SqlContext::String { backslash_escapes: backslash },
                    State::Ident => SqlContext::Identifier,
                    State::Line | State::Block(_) => SqlContext::Comment,
                    State::Dollar(..) => SqlContext::DollarQuoted,
                };
                i = range.end;
                spots.push(SqlSpot { range, name: name.to_string(), context });
                continue;
            }
        }
        let next = b.get(i + 1).copied();
        match state {
            State::Code => match b[i] {
                b'-' if next == Some(b'-') => {
                    state = State::Line;
                    i += 1;
                }
                b'/' if next == Some(b'*') => {
                    state = State::Block(1);
                    i += 1;
                }
                b'\'' => {
                    let prefixed = i > 0 && matches!(b[i - 1], b'e' | b'E') && (i < 2 || !ident_char(b[i - 2]));
                    state = State::Str { backslash: prefixed };
                }
                b'"' => state = State::Ident,
                b'$' if i == 0 || !ident_char(b[i - 1]) => {
                    // `$tag$` opens a dollar-quoted string; `$1` is a positional parameter.
                    let tag_end = b[i + 1..].iter().position(|&c| !ident_char(c)).map_or(b.len(), |p| i + 1 + p);
                    if b.get(tag_end) == Some(&b'$') && !b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                        state = State::Dollar(i, tag_end + 1);
                        i = tag_end;
                    }
                }
                _ => {}
            },
            State::Str { backslash } => match b[i] {
                b'\\' if backslash => i += 1,
                b'\'' if next == Some(b'\'') => i += 1,
                b'\'' => state = State::Code,
                _ => {}
            },
            State::Ident => match b[i] {
                b'"' if next == Some(b'"') => i += 1,
                b'"' => state = State::Code,
                _ => {}
            },
            State::Line => {
                if b[i] == b'\n' {
                    state = State::Code;
                }
            }
            State::Block(depth) => {
                if b[i] == b'/' && next == Some(b'*') {
                    state = State::Block(depth + 1);
                    i += 1;
                } else if b[i] == b'*' && next == Some(b'/') {
                    state = if depth == 1 { State::Code } else { State::Block(depth - 1) };
                    i += 1;
                }
            }
            State::Dollar(start, end) => {
                let tag = &b[start..end];
                if b[i..].starts_with(tag) {
                    i += tag.len();
                    state = State::Code;
                    continue;
                }
            }
        }
        i += 1;
    }
    spots
}

/// Where a shell placeholder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ShellContext {
    Bare,
    Single,
    Double,
    Comment,
}

struct ShellSpot {
    range: Range<usize>,
    name: String,
    context: ShellContext,
}

/// Every placeholder of a `sh -c` command with its quoting context: outside quotes, in `'…'` (or
/// `$'…'`), in `"…"`, or in a comment. `$( … )` inside double quotes starts a new unquoted context.
fn shell_placeholders(cmd: &str) -> Vec<ShellSpot> {
    #[derive(Clone, Copy, PartialEq)]
    enum Frame {
        /// Unquoted; the depth of `(` opened inside a `$(`, if this frame is one.
        Bare(Option<u32>),
        Single,
        Double,
        Comment,
    }
    let b = cmd.as_bytes();
    let mut stack = vec![Frame::Bare(None)];
    let mut spots = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let top = *stack.last().expect("never empty");
        if b[i] == b'{' {
            if let Some((range, name)) = placeholder_at(cmd, i) {
                let context = match top {
                    Frame::Bare(_) => ShellContext::Bare,
                    Frame::Single => ShellContext::Single,
                    Frame::Double => ShellContext::Double,
                    Frame::Comment => ShellContext::Comment,
                };
                i = range.end;
                spots.push(ShellSpot { range, name: name.to_string(), context });
                continue;
            }
        }
        let next = b.get(i + 1).copied();
        let word_start = i == 0 || b[i - 1].is_ascii_whitespace() || matches!(b[i - 1], b';' | b'&' | b'|' | b'(');
        match (top, b[i]) {
            (Frame::Bare(_) | Frame::Double, b'\\') => i += 1,
            (Frame::Bare(_) | Frame::Double, b'$') if next == Some(b'(') => {
                stack.push(Frame::Bare(Some(0)));
                i += 1;
            }
            (Frame::Bare(_), b'$') if next == Some(b'\'') => {
                stack.push(Frame::Single);
                i += 1;
            }
            (Frame::Bare(_), b'\'') => stack.push(Frame::Single),
            (Frame::Bare(_), b'"') => stack.push(Frame::Double),
            (Frame::Bare(_), b'#') if word_start => stack.push(Frame::Comment),
            (Frame::Bare(Some(depth)), b'(') => *stack.last_mut().expect("top") = Frame::Bare(Some(depth + 1)),
            (Frame::Bare(Some(0)), b')') => {
                stack.pop();
            }
            (Frame::Bare(Some(depth)), b')') => *stack.last_mut().expect("top") = Frame::Bare(Some(depth - 1)),
            (Frame::Single, b'\'') | (Frame::Double, b'"') => {
                stack.pop();
            }
            (Frame::Comment, b'\n') => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    spots
}

fn today() -> String {
    chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string()
}

/// Parses `name=value` (as given on the command line).
pub fn parse_assignment(s: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(Error::Invalid(format!("parameter `{s}` must look like name=value"))),
    }
}

/// A value for an error message: quoted, at most 60 characters.
fn shorten(v: &str) -> String {
    let mut s: String = v.chars().take(60).collect();
    if s.len() < v.len() {
        s.push('…');
    }
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(pairs: &[(&str, ParamType, &str)]) -> Params {
        Params { values: pairs.iter().map(|(k, t, v)| (k.to_string(), (*t, v.to_string()))).collect() }
    }

    #[test]
    fn text_rendering_reports_unknown_names() {
        let p = typed(&[("run_date", ParamType::Date, "2023-04-30")]);
        assert_eq!(p.render_text("d/{{ run_date }}/{{run_date}}").unwrap(), "d/2023-04-30/2023-04-30");
        let err = p.render_text("x {{ nope }}").unwrap_err();
        assert_eq!(err, RenderError::Unknown { name: "nope".into(), offset: 2 });
    }

    #[test]
    fn types_check_and_canonicalize_values() {
        assert_eq!(ParamType::Date.check("2023-5-1").unwrap(), "2023-05-01");
        assert!(ParamType::Date.check("2023-02-30").unwrap_err().contains("YYYY-MM-DD"));
        assert_eq!(ParamType::Int.check("-7").unwrap(), "-7");
        assert!(ParamType::Int.check("7 OR 1=1").is_err());
        assert_eq!(ParamType::Float.check("2.50").unwrap(), "2.5");
        assert!(ParamType::Float.check("NaN").is_err());
        assert!(ParamType::Float.check("inf").is_err());
        assert!(ParamType::Bool.check("yes").is_err());
        assert!(ParamType::String.check("a\0b").is_err());
        assert!(ParamType::String.check(&"x".repeat(MAX_VALUE_LEN + 1)).is_err());
    }

    #[test]
    fn sql_placeholders_become_typed_literals_or_escaped_values() {
        let p = typed(&[
            ("d", ParamType::Date, "2023-05-01"),
            ("n", ParamType::Int, "-5"),
            ("f", ParamType::Float, "0.25"),
            ("s", ParamType::String, "it's"),
            ("b", ParamType::Bool, "true"),
        ]);
        let sql = "SELECT {{ d }}, x - {{n}}, {{ f }}, {{ s }}, {{ b }}, '{{ s }}!', \"c_{{ s }}\" -- {{ gone }}\n/* {{ s }} */";
        assert_eq!(
            p.render_sql(sql, SqlEngine::DuckDb).unwrap(),
            "SELECT DATE '2023-05-01', x - (-5), CAST(0.25 AS DOUBLE), 'it''s', TRUE, 'it''s!', \"c_it's\" -- {{ gone }}\n/* {{ s }} */"
        );
        // E'…' strings take backslash escapes in DuckDB.
        let p = typed(&[("s", ParamType::String, r"\' OR 1=1 --")]);
        assert_eq!(p.render_sql("SELECT E'{{ s }}'", SqlEngine::DuckDb).unwrap(), r"SELECT E'\\'' OR 1=1 --'");
    }

    #[test]
    fn a_value_cannot_leave_its_quotes() {
        let attack = "' AS v UNION ALL SELECT column0 FROM read_csv('/etc/passwd') --";
        let p = typed(&[("x", ParamType::String, attack)]);
        for engine in [SqlEngine::DuckDb, SqlEngine::Polars] {
            let out = p.render_sql("SELECT '{{ x }}' AS v", engine).unwrap();
            assert_eq!(out, format!("SELECT '{}' AS v", attack.replace('\'', "''")));
            let stmts = crate::sqlrefs::parse(&out, engine).unwrap();
            assert_eq!(stmts.len(), 1);
            assert!(crate::sqlrefs::table_refs(&stmts).is_empty());
        }
        let err = p.render_sql("SELECT $$ {{ x }} $$", SqlEngine::DuckDb).unwrap_err();
        assert!(matches!(err, RenderError::Placement { .. }), "{err}");
    }

    #[test]
    fn the_shape_check_refuses_a_value_placed_where_the_engine_lexes_otherwise() {
        // Pretend our lexer took a '…' string for a "…" identifier: the value is then escaped the
        // wrong way and would close the string; the token comparison must refuse it.
        let p = typed(&[("x", ParamType::String, "a' OR '1'='1")]);
        let sql = "SELECT '{{ x }}' AS v";
        let wrong = vec![SqlSpot { range: 8..15, name: "x".into(), context: SqlContext::Identifier }];
        for engine in [SqlEngine::DuckDb, SqlEngine::Polars] {
            assert_eq!(p.render_spots(sql, &wrong, engine), Err(RenderError::Shape { name: "x".into(), offset: 8 }));
        }
        assert_eq!(p.render_sql(sql, SqlEngine::DuckDb).unwrap(), "SELECT 'a'' OR ''1''=''1' AS v");
    }

    #[test]
    fn shell_placeholders_become_quoted_variables() {
        let p = typed(&[("x", ParamType::String, "$(touch /tmp/pwned)")]);
        assert_eq!(p.render_shell("echo {{ x }} # {{ x }}").unwrap(), "echo \"${POLDER_PARAM_X}\" # {{ x }}");
        assert_eq!(p.render_shell("echo \"v={{ x }}\"").unwrap(), "echo \"v=${POLDER_PARAM_X}\"");
        assert_eq!(p.render_shell("echo \"$(cat {{ x }})\"").unwrap(), "echo \"$(cat \"${POLDER_PARAM_X}\")\"");
        assert_eq!(p.render_shell("a\\'{{ x }}").unwrap(), "a\\'\"${POLDER_PARAM_X}\"");
        let err = p.render_shell("echo '{{ x }}'").unwrap_err();
        assert!(err.to_string().contains("POLDER_PARAM_"), "{err}");
        assert!(matches!(p.render_shell("echo {{ y }}").unwrap_err(), RenderError::Unknown { .. }));
        assert_eq!(p.env(), vec![("POLDER_PARAM_X".to_string(), "$(touch /tmp/pwned)".to_string())]);
    }

    #[test]
    fn assignment_needs_a_name() {
        assert_eq!(parse_assignment("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_assignment("=x").is_err());
        assert!(parse_assignment("novalue").is_err());
    }
}
