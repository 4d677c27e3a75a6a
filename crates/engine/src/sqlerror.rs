//! Where in a query an engine's error points: a line and column recovered from DuckDB's
//! `LINE n:` excerpt with its caret, sqlparser's `Line: n, Column: m`, or a quoted unknown
//! column/table name found in the SQL. Editors use it to place error markers.

/// A position in SQL text, 1-based.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SqlLocation {
    /// Line, from 1.
    pub line: usize,
    /// Column (in characters), from 1.
    pub column: usize,
}

/// The location `message` (an engine's error about `sql`) points at, if it can be found.
pub fn locate(message: &str, sql: &str) -> Option<SqlLocation> {
    duckdb_excerpt(message, sql)
        .or_else(|| sqlparser_position(message))
        .or_else(|| sql_file_position(message))
        .or_else(|| quoted_name(message, sql))
}

/// The line of a Python task's `code` that `message` (its run or load error) points at: the
/// task file's frame of a traceback, `file.py:LINE:COL:` of a load error, `(line N, column M)`
/// of a preview, or a quoted name (an unknown column) found in the code.
pub fn locate_python(message: &str, code: &str, file: Option<&str>) -> Option<SqlLocation> {
    let own = file.map(|f| f.rsplit('/').next().unwrap_or(f));
    let is_own = |name: &str| own.is_none_or(|o| name.rsplit('/').next() == Some(o));
    // `Python error in by_region.py, line 5: …` names the innermost frame in the user's code;
    // when that is a helper module, the task file's last frame in the traceback is used.
    let mut found = None;
    if let Some(rest) = message.strip_prefix("Python error in ").or_else(|| message.split("Python error in ").nth(1)) {
        if let Some((name, after)) = rest.split_once(", line ") {
            let number = |s: &str| s.split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse::<usize>().ok());
            let line = number(after);
            let column =
                after.split_once(", column ").filter(|(l, _)| l.bytes().all(|b| b.is_ascii_digit())).and_then(|(_, c)| number(c));
            if is_own(name) {
                found = line.map(|line| SqlLocation { line, column: column.unwrap_or(1) });
            }
        }
    }
    if found.is_none() {
        for l in message.lines() {
            let Some(rest) = l.trim_start().strip_prefix("File \"") else { continue };
            let Some((name, after)) = rest.split_once("\", line ") else { continue };
            let line = after.split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse().ok());
            if is_own(name) {
                found = line.map(|line| SqlLocation { line, column: 1 }).or(found);
            }
        }
    }
    found
        .or_else(|| {
            let at = message.find(".py:")?;
            let mut parts = message[at + 4..].splitn(3, ':');
            let line = parts.next()?.parse().ok()?;
            let column = parts.next()?.parse().ok()?;
            Some(SqlLocation { line, column })
        })
        .or_else(|| {
            let at = message.rfind("(line ")?;
            let (line, rest) = message[at + 6..].split_once(", column ")?;
            let column = rest.split(')').next()?.parse().ok()?;
            Some(SqlLocation { line: line.parse().ok()?, column })
        })
        .or_else(|| quoted_name(message, code))
}

/// Polder's own load errors about a `.sql` file: `…/q02.sql:26:9: task 'q02' …`.
fn sql_file_position(message: &str) -> Option<SqlLocation> {
    let at = message.find(".sql:")?;
    let mut parts = message[at + 5..].splitn(3, ':');
    let line = parts.next()?.parse().ok()?;
    let column = parts.next()?.parse().ok()?;
    Some(SqlLocation { line, column })
}

/// DuckDB: `LINE 3:  FROM tbl WHERE x` followed by a line with `^` under the error. Long lines
/// are shown as a window starting with `...`, so the excerpt is searched for in the SQL line.
fn duckdb_excerpt(message: &str, sql: &str) -> Option<SqlLocation> {
    let lines: Vec<&str> = message.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let Some(rest) = l.trim_start().strip_prefix("LINE ") else { continue };
        let (num, excerpt) = rest.split_once(':')?;
        let line: usize = num.trim().parse().ok()?;
        let prefix_len = l.len() - excerpt.len();
        let caret = lines.get(i + 1).and_then(|c| c.find('^'));
        let excerpt_col = caret.map(|c| c.saturating_sub(prefix_len)).unwrap_or(0);
        let shown = excerpt.strip_prefix(' ').unwrap_or(excerpt);
        let excerpt_col = excerpt_col.saturating_sub(excerpt.len() - shown.len());
        let (shown, skipped) = match shown.strip_prefix("...") {
            Some(s) => (s, 3),
            None => (shown, 0),
        };
        let shown = shown.strip_suffix("...").unwrap_or(shown);
        let sql_line = sql.lines().nth(line - 1)?;
        // Where the excerpt starts in the SQL line (byte offset), then the caret's offset in it.
        let start = if shown.is_empty() { 0 } else { sql_line.find(shown.trim_end()).unwrap_or(0) };
        let byte = (start + excerpt_col.saturating_sub(skipped)).min(sql_line.len());
        let column = sql_line.get(..byte).map(|s| s.chars().count()).unwrap_or(0) + 1;
        return Some(SqlLocation { line, column });
    }
    None
}

/// Renumbers DuckDB's `LINE n:` excerpts of a query that was wrapped in `by` lines of our own,
/// so they count the user's lines; the caret line below keeps pointing at the same character.
pub fn shift_duckdb_lines(message: &str, by: usize) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut shift_caret: Option<isize> = None;
    for line in message.lines() {
        if let Some(delta) = shift_caret.take() {
            if line.trim_start().starts_with('^') {
                let spaces = line.len() - line.trim_start().len();
                let kept = (spaces as isize + delta).max(0) as usize;
                out.push(format!("{}{}", " ".repeat(kept), line.trim_start()));
                continue;
            }
        }
        let renumbered = line.strip_prefix("LINE ").and_then(|rest| {
            let (num, excerpt) = rest.split_once(':')?;
            let n: usize = num.trim().parse().ok()?;
            let new = n.checked_sub(by).filter(|n| *n > 0)?;
            Some((format!("LINE {new}:{excerpt}"), num.len() as isize, new.to_string().len() as isize))
        });
        match renumbered {
            Some((text, old_len, new_len)) => {
                shift_caret = Some(new_len - old_len);
                out.push(text);
            }
            None => out.push(line.to_string()),
        }
    }
    out.join("\n")
}

/// sqlparser: `… at Line: 2, Column: 7`.
fn sqlparser_position(message: &str) -> Option<SqlLocation> {
    let at = message.find("Line: ")?;
    let rest = &message[at + 6..];
    let (line, rest) = rest.split_once(", Column: ")?;
    let column: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    Some(SqlLocation { line: line.trim().parse().ok()?, column: column.parse().ok()? })
}

/// Polars and others name the unknown column or table in quotes: find its first use as a word.
fn quoted_name(message: &str, sql: &str) -> Option<SqlLocation> {
    const CUES: [&str; 6] = ["column", "table", "relation", "field", "identifier", "not found"];
    let lower = message.to_lowercase();
    if !CUES.iter().any(|c| lower.contains(c)) {
        return None;
    }
    for quote in ['"', '\'', '`'] {
        let mut parts = message.split(quote);
        parts.next();
        while let (Some(name), Some(_)) = (parts.next(), parts.next()) {
            if name.is_empty() || name.len() > 128 || name.contains(char::is_whitespace) {
                continue;
            }
            if let Some(loc) = find_word(sql, name) {
                return Some(loc);
            }
        }
    }
    None
}

/// The first occurrence of `word` in `sql` as a whole identifier (case-insensitive).
fn find_word(sql: &str, word: &str) -> Option<SqlLocation> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let word_l = word.to_lowercase();
    for (n, line) in sql.lines().enumerate() {
        let lower = line.to_lowercase();
        let mut from = 0;
        while let Some(pos) = lower[from..].find(&word_l) {
            let start = from + pos;
            let end = start + word_l.len();
            let before = lower[..start].chars().next_back();
            let after = lower[end..].chars().next();
            if !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
                return Some(SqlLocation { line: n + 1, column: line[..start].chars().count() + 1 });
            }
            from = end;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_errors_point_at_the_task_files_line() {
        let code = "import polars as pl\n\ndef run(sales):\n    return sales.select(pl.col(\"nope\"))\n";
        let at = |m: &str| locate_python(m, code, Some("by_region.py")).map(|l| (l.line, l.column));
        assert_eq!(at("Python error in by_region.py, line 4: KeyError: 'x'"), Some((4, 1)));
        assert_eq!(at("Python error in by_region.py, line 4, column 12: KeyError: 'x'"), Some((4, 12)));
        // A message that only mentions a column later on keeps the line's start.
        assert_eq!(at("Python error in by_region.py, line 4: ValueError: bad value, column 7"), Some((4, 1)));
        let helper = "Python error in helper.py, line 9: KeyError: 'x'\nTraceback (your code, most recent call last):\n  File \"by_region.py\", line 3, in run\n  File \"helper.py\", line 9, in f";
        assert_eq!(at(helper), Some((3, 1)), "the task file's frame, not the helper's");
        assert_eq!(at("error: /p/by_region.py:3:1: task 'by_region': `*x` is not supported"), Some((3, 1)));
        assert_eq!(at("task 'by_region': no top-level `def run(…)` (line 1, column 1)"), Some((1, 1)));
        let lazy = "Python error: while writing the returned frame: polars.exceptions.ColumnNotFoundError: unable to find column \"nope\"; valid columns: [\"id\"]";
        assert_eq!(at(lazy), Some((4, 33)));
    }

    const SQL: &str = "SELECT\n    a,\n    missing_col\nFROM t";

    #[test]
    fn duckdb_caret_points_into_the_line() {
        let msg = "Binder Error: Referenced column \"missing_col\" not found in FROM clause!\nCandidate bindings: \"a\"\n\nLINE 3:     missing_col\n            ^";
        assert_eq!(locate(msg, SQL), Some(SqlLocation { line: 3, column: 5 }));
    }

    #[test]
    fn duckdb_windowed_excerpt_is_found_in_the_line() {
        let sql = format!("SELECT {}FORM t", "x, ".repeat(40));
        let msg = "Parser Error: syntax error at or near \"t\"\n\nLINE 1: ...x, x, x, FORM t\n{}^";
        let msg = msg.replace("{}", &" ".repeat(25));
        let loc = locate(&msg, &sql).unwrap();
        assert_eq!(loc.line, 1);
        // The caret sits under `t`, after "FORM ".
        assert_eq!(&sql[loc.column - 1..], "t");
    }

    #[test]
    fn wrapper_lines_are_taken_out_of_duckdb_excerpts() {
        // `LINE 11: SELECT x` with the caret under `x` (16 characters in).
        let msg = format!("Binder Error: column \"x\" not found\n\nLINE 11: SELECT x FROM t\n{}^", " ".repeat(16));
        let shifted = shift_duckdb_lines(&msg, 2);
        let expected = format!("Binder Error: column \"x\" not found\n\nLINE 9: SELECT x FROM t\n{}^", " ".repeat(15));
        assert_eq!(shifted, expected);
        // The caret still sits under `x` of the user's line 9.
        let sql = format!("{}SELECT x FROM t", "\n".repeat(8));
        assert_eq!(locate(&shifted, &sql), Some(SqlLocation { line: 9, column: 8 }));
        // Lines of the wrapper itself are left alone.
        assert_eq!(shift_duckdb_lines("LINE 1: COPY (", 1), "LINE 1: COPY (");
    }

    #[test]
    fn sqlparser_position_is_read() {
        let msg = "sql/gold.sql: Expected: end of statement, found: FORM at Line: 2, Column: 7";
        assert_eq!(locate(msg, "SELECT 1\nFROM  FORM"), Some(SqlLocation { line: 2, column: 7 }));
    }

    #[test]
    fn a_refusal_at_load_points_into_the_sql_file() {
        let msg = "1 problem in the pipeline:\n  - /p/q02.sql:26:9: task 'q02' (engine = \"polars\"): Polars SQL cannot run: scalar subquery";
        assert_eq!(locate(msg, "SELECT 1"), Some(SqlLocation { line: 26, column: 9 }));
    }

    #[test]
    fn quoted_unknown_column_is_found_as_a_word() {
        let msg = "unable to find column \"missing_col\"; valid columns: [\"a\", \"b\"]";
        assert_eq!(locate(msg, SQL), Some(SqlLocation { line: 3, column: 5 }));
        // A longer identifier containing the name does not count.
        assert_eq!(find_word("SELECT ab, a FROM t", "a"), Some(SqlLocation { line: 1, column: 12 }));
    }

    #[test]
    fn unrelated_messages_have_no_location() {
        assert_eq!(locate("out of memory", SQL), None);
        assert_eq!(locate("column \"nowhere\" not found", SQL), None);
    }
}
