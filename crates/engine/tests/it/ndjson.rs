//! The fast NDJSON reader gives the frame Polars' reader gives, on the project's NDJSON data and
//! on the awkward cases: malformed lines, missing fields, type conflicts, deep nesting, unicode
//! escapes, huge lines, empty files, lists, repeated keys, CRLF endings.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use polder_engine::spec::{PathColumn, PathColumnType, SourceFormat, SourceTask};
use polder_engine::tasks::ndjson::{self, Options, Outcome, Stats};
use polder_engine::tasks::source;

fn task(path: &str) -> SourceTask {
    SourceTask::new(SourceFormat::Ndjson, path)
}

/// A `path_column` taking its first capture group as `dtype` (`format` for dates).
fn path_column(name: &str, pattern: &str, dtype: PathColumnType, format: &str) -> Option<PathColumn> {
    Some(PathColumn { name: name.into(), pattern: pattern.into(), dtype, format: format.into() })
}

fn write_files(dir: &Path, files: &[(&str, &str)]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = files
        .iter()
        .map(|(name, text)| {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect();
    out.sort();
    out
}

/// Chunkings that cut everywhere (tiny chunks, more threads than cores) and the default one.
fn chunkings() -> [Options; 3] {
    [Options { chunk_bytes: 7, threads: 3 }, Options { chunk_bytes: 256, threads: 2 }, Options::default()]
}

/// Polars' frame for the source, or its error.
fn polars_frame(src: &SourceTask, files: &[PathBuf]) -> Result<DataFrame, String> {
    source::lazy(src, files, None).map_err(|e| e.to_string())?.collect().map_err(|e| e.to_string())
}

fn assert_same_frame(fast: &DataFrame, reference: &DataFrame, what: &str) {
    assert_eq!(fast.schema(), reference.schema(), "{what}: schema");
    assert_eq!(fast.height(), reference.height(), "{what}: rows");
    assert!(fast.equals_missing(reference), "{what}: values differ\nfast:\n{fast}\npolars:\n{reference}");
}

/// Reads with every chunking and checks the frame equals Polars', then the Parquet artifact the
/// reader writes (row groups encoded on its threads) with 4 KiB and default chunks (a row group
/// per 7-byte chunk would be 6,000 groups); returns the default run's stats.
fn same_as_polars(src: &SourceTask, files: &[PathBuf]) -> Stats {
    let reference = polars_frame(src, files).unwrap_or_else(|e| panic!("Polars' reader failed: {e}"));
    let mut last = Stats::default();
    for opts in chunkings() {
        let (outcome, df) = ndjson::read_frame(src, files, None, &opts).unwrap();
        let Outcome::Read(stats) = outcome else { panic!("not read by the fast reader: {outcome:?}") };
        assert_same_frame(&df.unwrap(), &reference, &format!("chunks of {} bytes", opts.chunk_bytes));
        last = stats;
    }
    let out = tempfile::tempdir().unwrap();
    for opts in [Options { chunk_bytes: 4096, threads: 2 }, Options::default()] {
        let what = format!("Parquet artifact, chunks of {} bytes", opts.chunk_bytes);
        let artifact = out.path().join(format!("{}.parquet", opts.chunk_bytes));
        let written = ndjson::write_parquet(src, files, None, &artifact, &opts, &Default::default()).unwrap();
        let Outcome::Read(stats) = written else { panic!("{what}: not read by the fast reader: {written:?}") };
        assert_eq!(stats.rows as usize, reference.height(), "{what}: rows");
        let back = ParquetReader::new(std::fs::File::open(&artifact).unwrap()).finish().unwrap();
        assert_same_frame(&back, &reference, &what);
    }
    same_columns_as_polars(src, files, &reference);
    last
}

/// Reading only some columns, a chunk at a time by the threads that use them (as a DuckDB query
/// over a source view does), gives those columns of Polars' frame: every other column, the last
/// one first, and the last one alone (a path column there: no parsed field is wanted, yet the
/// rows must still be counted). One thread gets the chunks in file order; three threads pulling
/// at once get every chunk exactly once (put back in order by their sequence numbers).
fn same_columns_as_polars(src: &SourceTask, files: &[PathBuf], reference: &DataFrame) {
    let planned = ndjson::prepare(src, files, None).unwrap_or_else(|e| panic!("not planned: {e}"));
    assert_eq!(*planned.schema, **reference.schema(), "planned schema");
    let names: Vec<PlSmallStr> = reference.get_column_names().into_iter().cloned().collect();
    let mut every_other: Vec<PlSmallStr> = names.iter().step_by(2).cloned().collect();
    every_other.reverse();
    let last: Vec<PlSmallStr> = names.last().into_iter().cloned().collect();
    for columns in [every_other, last] {
        let expected = reference.select(columns.iter().cloned()).unwrap();
        for chunk_bytes in [256, 1 << 20] {
            for threads in [1, 3] {
                let what = format!("columns {columns:?}, chunks of {chunk_bytes} bytes, {threads} thread(s)");
                let reader = ndjson::OnDemand::new(src, files, &planned, &columns, chunk_bytes).unwrap();
                let mut pulled: Vec<ndjson::Pulled> = std::thread::scope(|scope| {
                    let pulls: Vec<_> = (0..threads)
                        .map(|_| {
                            scope.spawn(|| {
                                let mut worker = ndjson::Worker::default();
                                let mut mine = Vec::new();
                                while let Some(p) = reader.next(&mut worker).unwrap() {
                                    mine.push(p);
                                }
                                mine
                            })
                        })
                        .collect();
                    pulls.into_iter().flat_map(|h| h.join().unwrap()).collect()
                });
                if threads == 1 {
                    assert!(pulled.windows(2).all(|w| w[0].seq < w[1].seq), "{what}: one thread pulls in file order");
                }
                pulled.sort_by_key(|p| p.seq);
                let (stats, _) = reader.summary().unwrap_or_else(|| panic!("{what}: no summary once read"));
                assert!(reader.summary().is_none(), "{what}: the summary is given once");
                assert_eq!(stats.rows as usize, reference.height(), "{what}: rows");
                assert_eq!(stats.bytes, files.iter().map(|f| std::fs::metadata(f).unwrap().len()).sum::<u64>(), "{what}: bytes");
                let mut got = pulled.first().map(|p| p.frame.clear()).unwrap_or_else(|| expected.clear());
                for p in pulled {
                    got.vstack_mut_owned(p.frame).unwrap();
                }
                assert_same_frame(&got, &expected, &what);
            }
        }
    }
}

/// Both readers refuse the source; returns the fast reader's message (default chunking).
fn both_fail(src: &SourceTask, files: &[PathBuf]) -> String {
    let polars = polars_frame(src, files);
    assert!(polars.is_err(), "Polars' reader accepted it: {polars:?}");
    let mut message = String::new();
    for opts in chunkings() {
        match ndjson::read_frame(src, files, None, &opts) {
            Err(e) => message = e.to_string(),
            Ok((outcome, df)) => panic!("the fast reader accepted it: {outcome:?} {df:?}"),
        }
    }
    message
}

#[test]
fn generated_viewing_logs_match_polars_with_path_column_and_flatten() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = polder_datagen::medallion::MedallionConfig::with_rows(6_000);
    cfg.days = 4;
    polder_datagen::medallion::write(&cfg, tmp.path()).unwrap();
    let mut files = source::resolve_files(tmp.path(), "*.json").unwrap();
    files.sort();
    assert_eq!(files.len(), 4);
    let mut src = task("*.json");
    src.flatten = true;
    src.path_column = path_column("date", r"(\d{8})\.json$", PathColumnType::Date, "%Y%m%d");
    let stats = same_as_polars(&src, &files);
    assert_eq!(stats.rows, 6_000);
    assert_eq!(stats.polars_chunks, 0, "every chunk parsed by the fast parser: {stats:?}");
    assert!(stats.fast_chunks >= 4);
    // The columns the medallion's SQL reads, flattened out of `_source`.
    let df = ndjson::read_frame(&src, &files, None, &Options::default()).unwrap().1.unwrap();
    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(names, ["_index", "_type", "_id", "_score", "Contract", "Mac", "TotalDuration", "AppName", "date"]);
    // Without flatten, and with a separator: structs built like Polars builds them.
    src.flatten = false;
    same_as_polars(&src, &files);
    src.flatten = true;
    src.flatten_separator = Some(".".into());
    same_as_polars(&src, &files);
    // One multi-file scan (no path column): every file read with the first one's schema.
    src.path_column = None;
    same_as_polars(&src, &files);
}

#[test]
fn project_fixtures_match_polars() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lakehouse/data/events");
    let files = source::resolve_files(&root, "*.ndjson").unwrap();
    assert_eq!(files.len(), 3);
    let mut src = task("*.ndjson");
    let stats = same_as_polars(&src, &files);
    assert!(stats.rows > 100, "{stats:?}");
    src.flatten = true;
    src.path_column = path_column("day", r"(\d{4}-\d{2}-\d{2})\.ndjson$", PathColumnType::Date, "%Y-%m-%d");
    same_as_polars(&src, &files);
    // The engine test `sources.rs` fixture: nested people, a path column per day.
    let tmp = tempfile::tempdir().unwrap();
    let files = write_files(
        tmp.path(),
        &[
            ("day-1.jsonl", "{\"id\":1,\"person\":{\"name\":\"ann\",\"geo\":{\"cc\":\"NL\"}}}\n{\"id\":2,\"person\":{\"name\":\"bob\",\"geo\":{\"cc\":\"BE\"}}}\n"),
            ("day-2.jsonl", "{\"id\":3,\"person\":{\"name\":\"cy\",\"geo\":{\"cc\":\"DE\"}}}\n"),
        ],
    );
    let mut src = task("day-*.jsonl");
    src.flatten = true;
    src.path_column = path_column("day", r"day-(\d+)\.jsonl$", PathColumnType::Int, "");
    same_as_polars(&src, &files);
}

#[test]
fn missing_fields_nulls_and_deep_nesting_match() {
    let tmp = tempfile::tempdir().unwrap();
    let text = concat!(
        "{\"a\":1,\"b\":\"x\",\"c\":true,\"f\":1.5,\"d\":{\"e\":{\"g\":{\"h\":{\"i\":{\"j\":7,\"k\":\"deep\"}}}}}}\n",
        "{\"b\":null,\"d\":{\"e\":null}}\n",
        "{\"a\":null,\"c\":false,\"f\":2,\"d\":null}\n",
        "{}\n",
        "{\"d\":{},\"f\":-0.0,\"a\":-9223372036854775808}\n",
        "{\"d\":{\"e\":{\"g\":{\"h\":{\"i\":{}}}}},\"f\":1e300,\"b\":\"\",\"late\":[1,{\"x\":1}]}\n",
    );
    let files = write_files(tmp.path(), &[("n.json", text)]);
    let mut src = task("n.json");
    // `late` comes after the rows the schema is inferred from: a key the schema lacks, skipped.
    src.infer_schema_rows = Some(5);
    let stats = same_as_polars(&src, &files);
    assert_eq!(stats.rows, 6);
    assert_eq!(stats.polars_chunks, 0, "{stats:?}");
    src.flatten = true;
    same_as_polars(&src, &files);
    src.flatten_separator = Some("__".into());
    same_as_polars(&src, &files);
    let df = ndjson::read_frame(&src, &files, None, &Options::default()).unwrap().1.unwrap();
    let deep = df.column("d__e__g__h__i__j").unwrap().i64().unwrap();
    assert_eq!((0..6).map(|i| deep.get(i)).collect::<Vec<_>>(), [Some(7), None, None, None, None, None]);
}

#[test]
fn unicode_escapes_crlf_blank_lines_and_no_final_newline_match() {
    let tmp = tempfile::tempdir().unwrap();
    let text = concat!(
        "{\"s\":\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\n\\t\",\"t\":\"Zoë 東京 🚀\"}\r\n",
        "\r\n",
        "   \t\n",
        "{\"s\":\"\\u0000nul\",\"t\":\"\\/slash\"}\n",
        "{\"t\":\"no newline at the end\",\"s\":\"ok\"}",
    );
    let files = write_files(tmp.path(), &[("u.json", text)]);
    let stats = same_as_polars(&task("u.json"), &files);
    assert_eq!(stats.rows, 3);
    let df = ndjson::read_frame(&task("u.json"), &files, None, &Options::default()).unwrap().1.unwrap();
    assert_eq!(df.column("s").unwrap().str().unwrap().get(0), Some("café 😀 \"q\" \\ \n\t"));
}

#[test]
fn huge_lines_longer_than_a_chunk_match() {
    let tmp = tempfile::tempdir().unwrap();
    let big = "x".repeat(3 << 20);
    let text = format!("{{\"id\":1,\"blob\":\"{big}\"}}\n{{\"id\":2,\"blob\":\"small\"}}\n{{\"id\":3,\"blob\":\"{big}é\"}}\n");
    let files = write_files(tmp.path(), &[("h.json", &text)]);
    let stats = same_as_polars(&task("h.json"), &files);
    assert_eq!(stats.rows, 3);
}

#[test]
fn type_conflicts_convert_like_polars_or_fail_with_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    // Inferred from the first 2 rows: n Int64, f Float64, s String, flag Boolean.
    let head = "{\"n\":1,\"f\":1.5,\"s\":\"a\",\"flag\":true}\n{\"n\":2,\"f\":2.5,\"s\":\"b\",\"flag\":false}\n";
    let mut src = task("t.json");
    src.infer_schema_rows = Some(2);
    // Conversions Polars makes: an integer in a float column, a number or bool or object in a
    // string column. The fast parser hands those chunks to Polars' parser.
    let files = write_files(
        tmp.path(),
        &[("t.json", &format!("{head}{{\"f\":3,\"s\":42}}\n{{\"s\":true}}\n{{\"s\":{{\"k\":[1,\"v\"]}}}}\n{{\"s\":1.25e3}}\n"))],
    );
    let stats = same_as_polars(&src, &files);
    assert!(stats.polars_chunks >= 1, "{stats:?}");
    // Refusals: a float or a string in an integer column, a string in a bool column, a line that
    // is not JSON, a line that is not an object. The error names the file and the line.
    for (bad, what) in [
        ("{\"n\":1.5}", "float in Int64"),
        ("{\"n\":\"7\"}", "string in Int64"),
        ("{\"flag\":\"yes\"}", "string in Boolean"),
        ("{\"n\":3,\"s\":\"unterminated}", "malformed JSON"),
        ("[1,2,3]", "not an object"),
        ("{\"n\":18446744073709551615}", "beyond i64"),
    ] {
        let dir = tmp.path().join(what.replace(' ', "_"));
        let files = write_files(&dir, &[("t.json", &format!("{head}\n{{\"n\":5}}\n{bad}\n{{\"n\":6}}\n"))]);
        let message = both_fail(&src, &files);
        let at = format!("{}:5:", files[0].display());
        assert!(message.contains(&at), "{what}: `{message}` should name {at}");
    }
}

#[test]
fn repeated_keys_lists_and_null_columns_match() {
    let tmp = tempfile::tempdir().unwrap();
    let files = write_files(
        tmp.path(),
        &[("r.json", "{\"a\":1,\"a\":2,\"l\":[1,2],\"z\":null}\n{\"a\":3,\"l\":[],\"z\":null}\n{\"l\":null,\"z\":null}\n")],
    );
    // Lists are filled by Polars' parser, chunk by chunk; repeated keys too.
    let stats = same_as_polars(&task("r.json"), &files);
    assert_eq!(stats.rows, 3);
    assert_eq!(stats.fast_chunks, 0, "{stats:?}");
    // A repeated key at the top level after the schema is known: Polars' parser decides.
    let files = write_files(
        &tmp.path().join("k"),
        &[("k.json", "{\"a\":1,\"s\":\"x\"}\n{\"a\":2,\"a\":3,\"s\":\"y\"}\n{\"s\":null,\"a\":4}\n")],
    );
    let stats = same_as_polars(&task("k.json"), &files);
    assert!(stats.polars_chunks >= 1, "{stats:?}");
    // Repeated keys inside a nested object: Polars' parser decides there too.
    let files = write_files(&tmp.path().join("o"), &[("o.json", "{\"o\":{\"x\":1}}\n{\"o\":{\"x\":1,\"x\":5}}\n")]);
    let stats = same_as_polars(&task("o.json"), &files);
    assert!(stats.polars_chunks >= 1, "{stats:?}");
}

/// The parser matches each key against the key the row before had at that place: rows that
/// spell their keys differently must still land in the right columns. Here a key that begins
/// another (`a`, `ab`), a key spelled with an escape, a blank before the colon, a key too long to
/// match at once, keys reordered, dropped and added, a nested object with its own keys, a key
/// repeated where the last row had another one, and a line whose key ends its chunk.
#[test]
fn keys_spelled_unlike_the_row_before_land_in_their_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let text = concat!(
        "{\"a\":1,\"ab\":\"x\",\"a_very_long_key_name\":10,\"o\":{\"p\":1,\"q\":\"s\"},\"u\":0}\n",
        "{\"ab\":\"y\",\"a\":2,\"a_very_long_key_name\":11,\"o\":{\"q\":\"t\",\"p\":2},\"u\":1}\n",
        "{\"\\u0061\":3,\"a\\u0062\":\"z\",\"a_very_long_key_name\":12,\"o\":{\"p\":3},\"u\":2}\n",
        "{\"a\" :4,\"ab\"\t:\"w\",\"o\":{\"p\":4,\"q\":\"v\",\"extra\":[1]},\"a_very_long_key_name\":13}\n",
        "{\"a\":5,\"a\":6,\"ab\":\"r\"}\n",
        "{\"a\":7,\"ab\":\"q\",\"zz\":{\"p\":9},\"o\":{\"p\":5,\"q\":\"u\"},\"u\":3,\"a_very_long_key_name\":14}\n",
        "{\"ab\":\"p\"}\n",
        "{}\n",
        "{\"a\":8}"
    );
    let files = write_files(tmp.path(), &[("t.json", text)]);
    let mut src = task("t.json");
    src.infer_schema_rows = Some(2);
    let stats = same_as_polars(&src, &files);
    assert_eq!(stats.rows, 9);
    // Without the repeated key the fast parser reads it all, from the second row on by the keys
    // it learned (the flattened frame too).
    let files = write_files(&tmp.path().join("n"), &[("t.json", &text.replace("\"a\":5,\"a\":6,", "\"a\":5,"))]);
    let stats = same_as_polars(&src, &files);
    assert_eq!(stats.polars_chunks, 0, "{stats:?}");
    src.flatten = true;
    same_as_polars(&src, &files);
}

#[test]
fn empty_files_match_polars() {
    let tmp = tempfile::tempdir().unwrap();
    let files = write_files(
        tmp.path(),
        &[
            ("d-1.json", "{\"k\":\"a\",\"v\":1}\n"),
            ("d-2.json", ""),
            ("d-3.json", "\n\n"),
            ("d-4.json", "{\"v\":2,\"k\":\"b\"}\n"),
        ],
    );
    // One multi-file scan: empty files add no rows.
    let stats = same_as_polars(&task("d-*.json"), &files);
    assert_eq!(stats.rows, 2);
    // Per-file scans (a path column): whatever Polars makes of an empty file, the same.
    let mut src = task("d-*.json");
    src.path_column = path_column("n", r"d-(\d)\.json$", PathColumnType::Int, "");
    match polars_frame(&src, &files) {
        Ok(_) => {
            same_as_polars(&src, &files);
        }
        Err(e) => {
            // Polars cannot infer an empty file's types: the fast reader leaves it to Polars.
            let (outcome, _) = ndjson::read_frame(&src, &files, None, &Options::default()).unwrap();
            assert!(matches!(&outcome, Outcome::NotCovered(r) if r.contains("infer")), "{outcome:?} ({e})");
        }
    }
    // Only empty files.
    let only = write_files(&tmp.path().join("e"), &[("e.json", "")]);
    let polars = polars_frame(&task("e.json"), &only);
    let (outcome, df) = ndjson::read_frame(&task("e.json"), &only, None, &Options::default())
        .map(|(o, df)| (Some(o), df))
        .unwrap_or((None, None));
    // Nothing to read: left to Polars' reader (whatever it answers), never a different frame.
    assert!(df.is_none(), "{outcome:?} vs {polars:?}");
}

#[test]
fn files_that_disagree_are_combined_like_polars() {
    let tmp = tempfile::tempdir().unwrap();
    // Day 2 has an extra column, an integer where day 1 had a float, and no `s`.
    let files = write_files(
        tmp.path(),
        &[
            ("day-1.json", "{\"s\":\"a\",\"x\":1.5,\"o\":{\"p\":1}}\n"),
            ("day-2.json", "{\"x\":2,\"new\":true,\"o\":{\"p\":2}}\n"),
        ],
    );
    let mut src = task("day-*.json");
    src.path_column = path_column("day", r"day-(\d)\.json$", PathColumnType::Int, "");
    same_as_polars(&src, &files);
    src.flatten = true;
    same_as_polars(&src, &files);
    // Nested fields that differ between files: left to Polars' reader.
    let files =
        write_files(&tmp.path().join("n"), &[("day-1.json", "{\"o\":{\"p\":1}}\n"), ("day-2.json", "{\"o\":{\"q\":\"z\"}}\n")]);
    let (outcome, _) = ndjson::read_frame(&src, &files, None, &Options::default()).unwrap();
    assert!(matches!(&outcome, Outcome::NotCovered(r) if r.contains("`o`")), "{outcome:?}");
}

#[test]
fn compressed_files_are_left_to_polars() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("z.json");
    std::fs::write(&p, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0]).unwrap();
    let (outcome, _) = ndjson::read_frame(&task("z.json"), &[p], None, &Options::default()).unwrap();
    assert!(matches!(&outcome, Outcome::NotCovered(r) if r.contains("gzip")), "{outcome:?}");
}

/// A small deterministic generator (xorshift), so a failure names a seed that reproduces it.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// JSON whitespace, usually none.
    fn blank(&mut self) -> &'static str {
        ["", "", "", "", " ", "\t", "  ", " \r"][self.below(8) as usize]
    }

    /// A JSON string literal: plain, unicode, every escape, surrogate pairs.
    fn string(&mut self) -> String {
        let parts = [
            "plain",
            "caf\\u00e9",
            "\\ud83d\\ude00",
            "\\\"q\\\"",
            "\\\\",
            "\\/",
            "\\b\\f\\n\\r\\t",
            "Zoë 東京 🚀",
            "\\u0000",
            "",
            "a b",
            "\\u20AC",
            "x\\u0041y",
        ];
        let n = self.below(4);
        let body: String = (0..n).map(|_| parts[self.below(parts.len() as u64) as usize]).collect();
        format!("\"{body}\"")
    }

    /// A JSON number literal of the given kind.
    fn number(&mut self, float: bool) -> String {
        if !float {
            return match self.below(6) {
                0 => "0".into(),
                1 => "-0".into(),
                2 => format!("-{}", self.below(1 << 40)),
                3 => "-9223372036854775808".into(),
                4 => "9223372036854775807".into(),
                _ => format!("{}", self.below(100_000)),
            };
        }
        match self.below(8) {
            0 => format!("{}", f64::from_bits(self.next() >> 2)),
            1 => format!("{:e}", f64::from_bits(self.next() >> 2)),
            2 => format!("{}.{}", self.below(100_000), self.below(10_000_000_000)),
            3 => format!("-{}.{:019}e{}", self.below(10), self.next() % 10_000_000_000_000_000_000, self.below(600) as i64 - 300),
            4 => format!("{}E+{}", self.below(1000), self.below(20)),
            5 => "-0.0".into(),
            // Integers in a float column, within and beyond i64.
            6 => format!("{}", self.below(1 << 50)),
            _ => "18446744073709551615".into(),
        }
    }

    /// Any JSON value, nested up to `depth`: what the reader must skip over.
    fn any(&mut self, depth: u32) -> String {
        match self.below(if depth == 0 { 5 } else { 7 }) {
            0 => self.string(),
            1 => self.number(self.0 & 1 == 0),
            2 => ["true", "false", "null"][self.below(3) as usize].into(),
            3 => format!("[{}]", self.blank()),
            4 => format!("{{{}}}", self.blank()),
            5 => {
                let items: Vec<String> =
                    (0..1 + self.below(3)).map(|_| format!("{}{}{}", self.blank(), self.any(depth - 1), self.blank())).collect();
                format!("[{}]", items.join(","))
            }
            _ => {
                let items: Vec<String> = (0..1 + self.below(3))
                    .map(|i| format!("\"k{i}\"{}:{}{}", self.blank(), self.blank(), self.any(depth - 1)))
                    .collect();
                format!("{{{}}}", items.join(","))
            }
        }
    }

    /// A value for a column of `kind`, or null.
    fn value(&mut self, kind: &str) -> String {
        if self.below(7) == 0 {
            return "null".into();
        }
        match kind {
            "int" => self.number(false),
            "float" => self.number(true),
            "str" => self.string(),
            "bool" => ["true", "false"][self.below(2) as usize].into(),
            _ => {
                // A struct whose fields come in any order, some missing.
                let mut fields = vec![
                    format!("\"n\":{}", self.value("int")),
                    format!("\"s\":{}", self.value("str")),
                    format!("\"deep\":{{\"f\":{}}}", self.value("float")),
                ];
                let keep = 1 + self.below(3) as usize;
                let rot = self.below(3) as usize;
                fields.rotate_left(rot);
                fields.truncate(keep);
                format!("{{{}}}", fields.join(&format!(",{}", self.blank())))
            }
        }
    }
}

/// Random lines (a fixed set of typed keys in random order, some missing or null, unknown keys
/// holding any nested JSON, whitespace between tokens, every escape, integers at the edges of
/// i64, floats in every notation) read by the fast parser alone give Polars' frame, flattened or not.
#[test]
fn random_lines_match_polars_and_are_read_fast() {
    let tmp = tempfile::tempdir().unwrap();
    for seed in [1u64, 2, 3, 42] {
        let mut g = Gen(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0xBF58_476D_1CE4_E5B9));
        // The first line has every key with a value, so the inferred types are the intended ones.
        let keys = [("id", "int"), ("ratio", "float"), ("name", "str"), ("ok", "bool"), ("obj", "struct")];
        let mut text = String::from(
            "{\"id\":1,\"ratio\":0.5,\"name\":\"a\",\"ok\":true,\"obj\":{\"n\":1,\"s\":\"x\",\"deep\":{\"f\":1.5}}}\n",
        );
        for _ in 0..3_000 {
            let mut fields: Vec<String> = Vec::new();
            for (k, kind) in keys {
                if g.below(6) != 0 {
                    fields.push(format!("\"{k}\"{}:{}{}", g.blank(), g.blank(), g.value(kind)));
                }
            }
            for extra in 0..g.below(3) {
                fields.push(format!("\"x{extra}\":{}", g.any(3)));
            }
            let n = fields.len() as u64;
            if n > 1 {
                let rot = g.below(n) as usize;
                fields.rotate_left(rot);
            }
            text.push_str(&format!("{}{{{}}}{}\n", g.blank(), fields.join(&format!(",{}", g.blank())), g.blank()));
        }
        let name = format!("random-{seed}.json");
        let files = write_files(tmp.path(), &[(&name, &text)]);
        let mut src = task(&name);
        src.infer_schema_rows = Some(1);
        let stats = same_as_polars(&src, &files);
        assert_eq!(stats.rows, 3_001, "seed {seed}");
        assert_eq!(stats.polars_chunks, 0, "seed {seed}: every chunk read by the fast parser: {stats:?}");
        src.flatten = true;
        same_as_polars(&src, &files);
    }
}

/// Chunks of one or two bytes (every line longer than a chunk, every read buffer outgrown by the
/// partial line it carries) still read every line once.
#[test]
fn one_byte_chunks_read_every_line() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "{\"id\":1,\"s\":\"a\"}\n\n{\"id\":2,\"s\":\"bb\"}\n{\"id\":3,\"s\":\"ccc\"}";
    let files = write_files(tmp.path(), &[("c.json", text)]);
    let src = task("c.json");
    let reference = polars_frame(&src, &files).unwrap();
    for chunk_bytes in [1, 2] {
        let (outcome, df) = ndjson::read_frame(&src, &files, None, &Options { chunk_bytes, threads: 2 }).unwrap();
        let Outcome::Read(stats) = outcome else { panic!("not read by the fast reader: {outcome:?}") };
        assert_eq!(stats.rows, 3);
        assert_same_frame(&df.unwrap(), &reference, &format!("chunks of {chunk_bytes} bytes"));
    }
}
