//! Reads a Python task's function signature from its source text, without running Python: the
//! parameters name the upstream tasks it reads (as table names in SQL do), plus `params`.

/// The parameter that receives the run's parameters instead of a frame.
pub const PARAMS: &str = "params";

/// A task function's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Parameter names in order, `params` included.
    pub names: Vec<String>,
    /// The line of `def` (from 1).
    pub line: usize,
}

/// Why a signature could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureError {
    /// Line (from 1).
    pub line: usize,
    /// What is wrong and what to write instead.
    pub message: String,
}

/// Finds the top-level `def <function>(…)` in `code` and reads its parameter names.
pub fn parse(code: &str, function: &str) -> Result<Signature, SignatureError> {
    let mut offset = 0;
    for (i, line) in code.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        if line.starts_with("async def ") && defines(&line["async ".len()..], function) {
            return Err(SignatureError { line: i + 1, message: format!("`{function}` must be a plain `def`, not `async def`") });
        }
        if !defines(line, function) {
            continue;
        }
        let open = start + line.find('(').expect("defines() saw the parenthesis");
        let params = parameters(code, open + 1).map_err(|message| SignatureError { line: i + 1, message })?;
        return Ok(Signature { names: params, line: i + 1 });
    }
    Err(SignatureError {
        line: 1,
        message: format!(
            "no top-level `def {function}(…)`; define it with one parameter per upstream task it reads (and `params` for the run's parameters), returning a Polars DataFrame or LazyFrame"
        ),
    })
}

/// Whether `line` starts a top-level definition of `function`.
fn defines(line: &str, function: &str) -> bool {
    line.strip_prefix("def ")
        .map(str::trim_start)
        .and_then(|rest| rest.strip_prefix(function))
        .is_some_and(|rest| rest.trim_start().starts_with('('))
}

/// The parameter names from just after `(` to its matching `)`.
fn parameters(code: &str, from: usize) -> Result<Vec<String>, String> {
    let bytes = code.as_bytes();
    let mut depth = 0usize;
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut i = from;
    while i < bytes.len() {
        let c = bytes[i] as char;
        match c {
            '#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            '"' | '\'' => {
                // A string in an annotation or default: skipped whole (escapes included).
                let quote = bytes[i];
                let triple = bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote);
                i += if triple { 3 } else { 1 };
                loop {
                    if i >= bytes.len() {
                        return Err("unterminated string in the signature".into());
                    }
                    if bytes[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if bytes[i] == quote && (!triple || (bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote))) {
                        i += if triple { 3 } else { 1 };
                        break;
                    }
                    i += 1;
                }
                piece.push('_');
                continue;
            }
            '(' | '[' | '{' => depth += 1,
            ')' if depth == 0 => {
                pieces.push(std::mem::take(&mut piece));
                return names(pieces);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                pieces.push(std::mem::take(&mut piece));
                i += 1;
                continue;
            }
            _ => {}
        }
        piece.push(c);
        i += 1;
    }
    Err("the parameter list has no closing `)`".into())
}

fn names(pieces: Vec<String>) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for piece in pieces {
        let p = piece.trim();
        if p.is_empty() || p == "/" || p == "*" {
            continue;
        }
        if p.starts_with('*') {
            return Err(format!(
                "`{}` is not supported: name each upstream task as a parameter of its own",
                p.split([':', '=']).next().unwrap_or(p).trim()
            ));
        }
        let name: String = p.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if name.is_empty() {
            return Err(format!("cannot read a parameter name in `{p}`"));
        }
        out.push(name);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_annotated_multiline_signatures() {
        let code = "import polars as pl\n\n\ndef helper(x):\n    return x\n\ndef run(\n    bronze: pl.LazyFrame,  # the logs\n    dims: dict[str, \"pl.LazyFrame\"] = {'a': (1, 2)},\n    params: dict,\n) -> pl.LazyFrame:\n    return bronze\n";
        let s = parse(code, "run").unwrap();
        assert_eq!(s.names, vec!["bronze", "dims", "params"]);
        assert_eq!(s.line, 7);
    }

    #[test]
    fn nested_and_other_functions_are_not_the_task_function() {
        let code = "class A:\n    def run(self, x):\n        pass\n\ndef run_all(y):\n    pass\n\ndef run(z):\n    return z\n";
        let s = parse(code, "run").unwrap();
        assert_eq!((s.names, s.line), (vec!["z".to_string()], 8));
        assert_eq!(parse("def main(a, /, *, b):\n  pass\n", "main").unwrap().names, vec!["a", "b"]);
    }

    #[test]
    fn problems_name_the_line_and_what_to_write() {
        let e = parse("import polars as pl\n", "run").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("no top-level `def run(…)`"), "{}", e.message);
        let e = parse("\ndef run(*frames):\n  pass\n", "run").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("`*frames` is not supported"), "{}", e.message);
        let e = parse("async def run(a):\n  pass\n", "run").unwrap_err();
        assert!(e.message.contains("async"), "{}", e.message);
        let e = parse("def run(a, b\n", "run").unwrap_err();
        assert!(e.message.contains("no closing"), "{}", e.message);
    }
}
