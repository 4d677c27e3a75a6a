//! A local file's schema exactly as Polars infers it, for a fraction of the cost.
//!
//! Polars infers an NDJSON file by building a value tree of each of its first rows and a type
//! per row (~12k instructions a row of logs), then merging the distinct types in the order they
//! first appear. Rows of one shape (the same keys in the same order, the same kind of value in
//! each place) always get the same type, so here each row is only scanned for its shape (with
//! the reader's own scanner, [`super::scan`], which types numbers as simd-json does), and Polars'
//! own inference ([`polars::io::ndjson::infer_schema`]) runs on the first row of each shape, in
//! order: the same types in the same first-seen order, so the same schema. Anything this does not
//! decide exactly (a line the scanner leaves to Polars, invalid UTF-8, a wide object whose field
//! order depends on hashing in simd-json's value tree, odd whitespace) returns `None`, and the
//! caller lets Polars infer the file itself, errors included.

use std::collections::HashSet;
use std::io::Read;
use std::num::NonZeroUsize;
use std::path::Path;

use polars::prelude::*;

use super::scan::{Cursor, Kind, Number};

/// Bytes read from the file at a time while looking for its first rows.
const BLOCK: usize = 1 << 20;

/// Objects wider than this become hash maps in simd-json's value tree, whose iteration order
/// (and so Polars' field order) is not the line's: such files are left to Polars.
const ORDERED_KEYS: usize = 32;

/// Deepest nesting read for a shape (deeper: Polars decides).
const MAX_DEPTH: u32 = 128;

/// The schema Polars infers from the first `rows` rows of `file` (all rows when `None`), or
/// `None` when only Polars can tell.
pub fn schema_of(file: &Path, rows: Option<NonZeroUsize>) -> Option<Schema> {
    let limit = rows.map_or(usize::MAX, NonZeroUsize::get);
    let mut f = std::fs::File::open(file).ok()?;
    let mut shapes = Shapes::default();
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK);
    let mut eof = false;
    while shapes.rows < limit && !eof {
        let had = buf.len();
        buf.resize(had + BLOCK, 0);
        let n = read_full(&mut f, &mut buf[had..]).ok()?;
        buf.truncate(had + n);
        eof = n == 0;
        // Whole lines only, until the end of the file gives the last one.
        let end = if eof { buf.len() } else { memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1) };
        let mut start = 0;
        while start < end && shapes.rows < limit {
            let stop = memchr::memchr(b'\n', &buf[start..end]).map_or(end, |i| start + i + 1);
            shapes.row(&buf[start..stop])?;
            start = stop;
        }
        buf.drain(..start);
    }
    if shapes.rows == 0 {
        return None;
    }
    let firsts = NonZeroUsize::new(shapes.firsts_count)?;
    polars::io::ndjson::infer_schema(&mut std::io::Cursor::new(&shapes.firsts), Some(firsts)).ok()
}

/// Reads until `buf` is full or the file ends.
fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The distinct row shapes seen so far and the first row of each.
#[derive(Default)]
struct Shapes {
    /// Rows seen, as Polars counts them (blank lines are not rows).
    rows: usize,
    seen: HashSet<Vec<u8>>,
    /// The first row of each shape, one per line, in the order they came.
    firsts: Vec<u8>,
    firsts_count: usize,
    /// The shape of the row being read, and of the row before (most rows repeat it).
    shape: Vec<u8>,
    last: Vec<u8>,
    /// Unescaped keys and strings.
    text: String,
}

impl Shapes {
    /// Takes one line (with its newline, as Polars' `read_line` gives it); `None`: Polars decides.
    fn row(&mut self, line: &[u8]) -> Option<()> {
        // Polars reads rows as UTF-8 strings and skips those `trim` leaves empty; it counts the
        // rows it needs with a byte test. Where the two disagree, leave it to Polars.
        let text = std::str::from_utf8(line).ok()?;
        let blank = text.trim().is_empty();
        let json = super::parse::is_json_line(line.strip_suffix(b"\n").unwrap_or(line));
        if blank == json {
            return None;
        }
        if blank {
            return Some(());
        }
        self.rows += 1;
        self.shape.clear();
        let mut cursor = Cursor::new(text);
        shape(&mut cursor, &mut self.shape, &mut self.text, 0)?;
        // One value per line, then only whitespace.
        cursor.blank_lines();
        if !cursor.at_end() {
            return None;
        }
        if self.shape == self.last {
            return Some(());
        }
        self.last.clone_from(&self.shape);
        if !self.seen.contains(self.shape.as_slice()) {
            self.seen.insert(self.shape.clone());
            self.firsts.extend_from_slice(line);
            if !line.ends_with(b"\n") {
                self.firsts.push(b'\n');
            }
            self.firsts_count += 1;
        }
        Some(())
    }
}

/// Writes the shape of the value at `cursor` to `out`: `{`, the key count, then each key (length,
/// bytes) and its value's shape; `[`, the length, the elements' shapes; `s` string, `b` bool, `n`
/// null, `i` an integer Polars types Int64 (one that fits `i64`), `u` a larger one, `f` a float.
fn shape(cursor: &mut Cursor, out: &mut Vec<u8>, text: &mut String, depth: u32) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    match cursor.kind().ok()? {
        Kind::Object | Kind::Array => {
            let object = cursor.peek() == Some(b'{');
            let (open, close) = if object { (b'{', b'}') } else { (b'[', b']') };
            cursor.expect(open).ok()?;
            out.push(open);
            let count_at = out.len();
            out.extend_from_slice(&0u32.to_le_bytes());
            let mut count = 0usize;
            cursor.blanks();
            if !cursor.eat(close) {
                loop {
                    if object {
                        if count == ORDERED_KEYS {
                            return None;
                        }
                        let key = cursor.key(text).ok()?;
                        out.extend_from_slice(&(key.len() as u32).to_le_bytes());
                        out.extend_from_slice(key.as_bytes());
                    }
                    count += 1;
                    shape(cursor, out, text, depth + 1)?;
                    cursor.blanks();
                    match cursor.peek() {
                        Some(b',') => cursor.expect(b',').ok()?,
                        Some(b) if b == close => {
                            cursor.expect(close).ok()?;
                            break;
                        }
                        _ => return None,
                    }
                }
            }
            out[count_at..count_at + 4].copy_from_slice(&(count as u32).to_le_bytes());
        }
        Kind::String => {
            cursor.string(text).ok()?;
            out.push(b's');
        }
        Kind::Number => out.push(match cursor.number().ok()? {
            Number::Int(_) => b'i',
            Number::UInt(_) => b'u',
            Number::Float(_) => b'f',
        }),
        Kind::True => {
            cursor.literal("true").ok()?;
            out.push(b'b');
        }
        Kind::False => {
            cursor.literal("false").ok()?;
            out.push(b'b');
        }
        Kind::Null => {
            cursor.literal("null").ok()?;
            out.push(b'n');
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polars' own inference of `file` (what a scan without a schema finds).
    fn polars_schema(file: &Path, rows: usize) -> PolarsResult<Schema> {
        let path = PlRefPath::try_from_path(file)?;
        let mut lf =
            LazyJsonLineReader::new_paths(vec![path].into()).with_infer_schema_length(NonZeroUsize::new(rows)).finish()?;
        Ok(Arc::unwrap_or_clone(lf.collect_schema()?))
    }

    fn check(text: &str, rows: usize) -> Option<Schema> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.json");
        std::fs::write(&file, text).unwrap();
        let fast = schema_of(&file, NonZeroUsize::new(rows));
        if let Some(fast) = &fast {
            let reference = polars_schema(&file, rows).unwrap();
            assert_eq!(fast, &reference, "for {text:?} with {rows} rows");
            // Field order matters too (the frame's column order).
            let names = |s: &Schema| s.iter_names().cloned().collect::<Vec<_>>();
            assert_eq!(names(fast), names(&reference));
        }
        fast
    }

    #[test]
    fn shapes_give_the_schema_polars_infers() {
        let cases = [
            "{\"a\":1,\"b\":\"x\"}\n{\"a\":2,\"b\":\"y\"}\n",
            // Int then float, null then string, missing and new keys, keys in another order.
            "{\"a\":1,\"b\":null}\n{\"a\":2.5,\"b\":\"s\"}\n{\"c\":true}\n{\"b\":\"t\",\"a\":3}\n",
            // Nested structs whose fields vary, lists of mixed numbers, empty lists and objects.
            "{\"s\":{\"x\":1}}\n{\"s\":{\"y\":\"q\",\"x\":2}}\n{\"l\":[1,2.0],\"e\":[],\"o\":{}}\n",
            // A shape that comes back after another, then changes in its last value only.
            "{\"a\":1}\n{\"a\":1}\n{\"b\":[{\"c\":null}]}\n{\"a\":3}\n{\"a\":4.5}\n{\"b\":[{\"c\":\"x\"}]}\n",
            // A number beyond i64, unicode escapes in keys, blank and CRLF lines, no final newline.
            "{\"u\":18446744073709551615}\n\n  \r\n{\"k\\u00e9\":\"v\"}\r\n{\"u\":1}",
        ];
        for text in cases {
            assert!(check(text, 10_000).is_some(), "{text:?} left to Polars");
        }
    }

    #[test]
    fn only_the_first_rows_count() {
        // The third row would make `a` a string; with two rows Polars never sees it.
        let text = "{\"a\":1}\n\n{\"a\":2}\n{\"a\":\"late\"}\n";
        let schema = check(text, 2).unwrap();
        assert_eq!(schema.get("a"), Some(&DataType::Int64));
        let schema = check(text, 3).unwrap();
        assert_eq!(schema.get("a"), Some(&DataType::String));
    }

    #[test]
    fn what_only_polars_decides_is_left_to_it() {
        let wide: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let wide = format!("{{{}}}\n", wide.join(","));
        // Empty, blank, malformed, not an object, odd whitespace, too wide, a scalar and a list
        // in one column (Polars refuses it).
        let texts = ["", "\n\n", "{\"a\":1}\n{\"a\":\n", "[1,2]\n", "{\"a\":1}\n\u{0b}\n", &wide, "{\"m\":1}\n{\"m\":[1]}\n"];
        for text in texts {
            assert!(check(text, 10_000).is_none(), "{text:?} decided without Polars");
        }
        // Invalid UTF-8.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.json");
        std::fs::write(&file, b"{\"a\":\"\xff\"}\n").unwrap();
        assert!(schema_of(&file, NonZeroUsize::new(10)).is_none());
    }
}
