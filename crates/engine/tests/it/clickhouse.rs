//! The `clickhouse` sink against a real ClickHouse 18.16 (`scripts/ch-server.sh`, as
//! scripts/test.sh starts it; `POLDER_TEST_CH_*`).

use polars::prelude::*;
use polder_engine::clickhouse::ChAccess;
use polder_engine::{RunOptions, RunStatus, TaskStatus};

use crate::common::*;

pub(crate) fn var(key: &str) -> String {
    std::env::var(format!("POLDER_TEST_CH_{key}")).unwrap_or_else(|_| {
        panic!("POLDER_TEST_CH_{key} is not set: run `scripts/ch-server.sh start && eval \"$(scripts/ch-server.sh env)\"` first (scripts/test.sh does)")
    })
}

/// The test server, as the tests' own client.
pub(crate) fn server() -> ChAccess {
    let (url, user, password) = (var("URL"), var("USER"), var("PASSWORD"));
    ChAccess::from_env(&move |k: &str| match k {
        "CLICKHOUSE_URL" => Some(url.clone()),
        "CLICKHOUSE_USER" => Some(user.clone()),
        "CLICKHOUSE_PASSWORD" => Some(password.clone()),
        _ => None,
    })
    .unwrap()
}

pub(crate) fn query(sql: &str) -> String {
    server().execute(&format!("{sql} FORMAT TabSeparatedRaw")).unwrap_or_else(|e| panic!("{sql}: {e}")).trim().to_string()
}

/// A pipeline loading `data/t.parquet` into `table` with `mode` and `order_by = ["id"]`, through
/// connection `ch` (its password from the environment).
fn fixture(table: &str, mode: &str) -> Fixture {
    fixture_with(table, mode, "")
}

/// [`fixture`] with more lines for the sink task.
fn fixture_with(table: &str, mode: &str, sink_lines: &str) -> Fixture {
    let spec = format!(
        "[pipeline]\nname = \"ch\"\n\n[[task]]\nid = \"t\"\nkind = \"source\"\nformat = \"parquet\"\npath = \"data/t.parquet\"\n\n\
         [[task]]\nid = \"load\"\nkind = \"sink\"\ninput = \"t\"\nformat = \"clickhouse\"\nconnection = \"ch\"\ntable = \"{table}\"\nmode = \"{mode}\"\norder_by = [\"id\"]\n{sink_lines}"
    );
    let fx = Fixture::new(&spec, &[]);
    let connections = format!(
        "[connections.ch]\ntype = \"clickhouse\"\nurl = \"{}\"\nuser = \"{}\"\npassword = \"${{env:POLDER_TEST_CH_PASSWORD}}\"\n",
        var("URL"),
        var("USER")
    );
    std::fs::write(fx.tmp.path().join("connections.toml"), connections).unwrap();
    fx
}

/// Rows `ids` with every mapped type; names are NULL for ids divisible by 5; the time of row id
/// `fraction_at` has a microsecond (which ClickHouse 18.16 cannot hold).
fn write_rows(fx: &Fixture, ids: std::ops::Range<i64>, fraction_at: Option<i64>) {
    let n = (ids.end - ids.start) as usize;
    let mut df = df!(
        "id" => ids.clone().collect::<Vec<_>>(),
        "name" => ids.clone().map(|i| (i % 5 != 0).then(|| format!("name {i} é"))).collect::<Vec<_>>(),
        "small" => ids.clone().map(|i| (i % 100) as i16).collect::<Vec<_>>(),
        "ok" => ids.clone().map(|i| i % 2 == 0).collect::<Vec<_>>(),
        "ratio" => ids.clone().map(|i| i as f64 / 8.0).collect::<Vec<_>>(),
    )
    .unwrap();
    let extra = [
        Int32Chunked::new("day".into(), ids.clone().map(|i| 19_000 + (i % 40) as i32).collect::<Vec<_>>())
            .into_date()
            .into_series(),
        Int64Chunked::new(
            "at".into(),
            ids.clone().map(|i| (1_700_000_000 + i) * 1_000_000 + if fraction_at == Some(i) { 1 } else { 0 }).collect::<Vec<_>>(),
        )
        .into_datetime(TimeUnit::Microseconds, None)
        .into_series(),
        Int128Chunked::new("price".into(), ids.clone().map(|i| i as i128 * 125).collect::<Vec<_>>())
            .into_decimal(12, 2)
            .unwrap()
            .into_series(),
        ListChunked::from_iter(ids.clone().map(|i| Some(Series::new("".into(), scores(i)))))
            .with_name("scores".into())
            .into_series()
            .cast(&DataType::List(Box::new(DataType::Int64)))
            .unwrap(),
        ListChunked::from_iter(ids.map(|i| Some(Series::new("".into(), tags(i)))))
            .with_name("tags".into())
            .into_series()
            .cast(&DataType::List(Box::new(DataType::String)))
            .unwrap(),
    ];
    for s in extra {
        df.with_column(s.into()).unwrap();
    }
    assert_eq!(df.height(), n);
    std::fs::create_dir_all(fx.dir().join("data")).unwrap();
    ParquetWriter::new(std::fs::File::create(fx.dir().join("data/t.parquet")).unwrap()).finish(&mut df).unwrap();
}

/// Row `i`'s list columns: up to 3 scores (the second one NULL), and no tags or two.
fn scores(i: i64) -> Vec<Option<i64>> {
    (0..i % 4).map(|k| (k != 1).then_some(i * 10 + k)).collect()
}

fn tags(i: i64) -> Vec<String> {
    if i % 5 == 0 {
        Vec::new()
    } else {
        vec![format!("t{}", i % 7), "x".into()]
    }
}

/// Facts of the list columns: elements, the sum of the non-null scores, empty tag lists.
fn list_facts(table: &str) -> String {
    query(&format!(
        "SELECT sum(length(scores)), sum(arraySum(arrayMap(x -> ifNull(x, 0), scores))), countIf(empty(tags)), sum(length(tags)) FROM {table}"
    ))
}

fn list_expected(ids: std::ops::Range<i64>) -> String {
    let v: Vec<i64> = ids.collect();
    let elements: usize = v.iter().map(|i| scores(*i).len()).sum();
    let total: i64 = v.iter().flat_map(|i| scores(*i)).flatten().sum();
    let empty = v.iter().filter(|i| tags(**i).is_empty()).count();
    let tagged: usize = v.iter().map(|i| tags(*i).len()).sum();
    format!("{elements}\t{total}\t{empty}\t{tagged}")
}

fn facts(table: &str) -> String {
    query(&format!(
        "SELECT count(), sum(id), countIf(isNull(name)), sum(small), sum(ok), sum(ratio), toString(min(day)), toString(max(at)), toString(sum(price)) FROM {table}"
    ))
}

fn expected(ids: std::ops::Range<i64>) -> String {
    let v: Vec<i64> = ids.collect();
    let day = |i: i64| chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(19_000 + i % 40);
    let at = |i: i64| chrono::DateTime::from_timestamp(1_700_000_000 + i, 0).unwrap().format("%Y-%m-%d %H:%M:%S").to_string();
    let cents: i64 = v.iter().map(|i| i * 125).sum();
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}.{:02}",
        v.len(),
        v.iter().sum::<i64>(),
        v.iter().filter(|i| *i % 5 == 0).count(),
        v.iter().map(|i| i % 100).sum::<i64>(),
        v.iter().filter(|i| *i % 2 == 0).count(),
        v.iter().map(|i| *i as f64 / 8.0).sum::<f64>(),
        v.iter().map(|i| day(*i)).min().unwrap(),
        v.iter().map(|i| at(*i)).max().unwrap(),
        cents / 100,
        cents % 100
    )
}

/// Work tables of `table` still there (tests run at once: each looks at its own table's).
fn leftovers(table: &str) -> String {
    let prefix = format!("{table}__polder_");
    query(&format!("SELECT count() FROM system.tables WHERE substring(name, 1, {}) = '{prefix}'", prefix.len()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_replace_and_append_load_every_mapped_type() {
    server().execute("DROP TABLE IF EXISTS ch_modes").unwrap();
    let fx = fixture("ch_modes", "create");
    write_rows(&fx, 0..100_000, None);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert_eq!(facts("ch_modes"), expected(0..100_000));
    // Lists became arrays, across the load's several blocks.
    assert_eq!(list_facts("ch_modes"), list_expected(0..100_000));
    assert_eq!(
        query("SELECT toString(scores), toString(tags) FROM ch_modes WHERE id = 99999"),
        "[999990,NULL,999992]\t['t4','x']"
    );
    // 18.16's system.columns has no position; it lists columns in table order.
    let types = query("SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'ch_modes'");
    assert_eq!(
        types,
        "id\tInt64\nname\tNullable(String)\nsmall\tNullable(Int16)\nok\tNullable(UInt8)\nratio\tNullable(Float64)\nday\tNullable(Date)\nat\tNullable(DateTime('UTC'))\nprice\tNullable(Decimal(12, 2))\nscores\tArray(Nullable(Int64))\ntags\tArray(Nullable(String))"
    );
    // create refuses an existing table.
    let again = fx.run(RunOptions { force: true, ..Default::default() }).await;
    assert_eq!(status(&again, "load"), TaskStatus::Failed);
    assert!(error(&again, "load").contains("table ch_modes already exists"), "{}", error(&again, "load"));

    let fx = fixture("ch_modes", "replace");
    write_rows(&fx, 50..60, None);
    assert_eq!(fx.run(RunOptions::default()).await.status, RunStatus::Success);
    assert_eq!(facts("ch_modes"), expected(50..60));
    assert_eq!(leftovers("ch_modes"), "0");

    // Gzip bodies (what a server on another machine gets) load the same rows.
    std::env::set_var(polder_engine::clickhouse::GZIP_ENV, "1");
    let fx = fixture("ch_modes", "append");
    write_rows(&fx, 60..70, None);
    let appended = fx.run(RunOptions::default()).await;
    std::env::remove_var(polder_engine::clickhouse::GZIP_ENV);
    assert_eq!(appended.status, RunStatus::Success);
    assert_eq!(facts("ch_modes"), expected(50..70));
    assert_eq!(list_facts("ch_modes"), list_expected(50..70));
    assert_eq!(leftovers("ch_modes"), "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_clickhouse_cannot_hold_fails_naming_it_and_leaves_the_table_whole() {
    server().execute("DROP TABLE IF EXISTS ch_bad").unwrap();
    let fx = fixture("ch_bad", "replace");
    write_rows(&fx, 0..10, None);
    assert_eq!(fx.run(RunOptions::default()).await.status, RunStatus::Success);
    write_rows(&fx, 0..100, Some(7));
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "load"), TaskStatus::Failed);
    let err = error(&run, "load");
    assert!(err.contains("column 'at', row 8: a time with fractions of a second"), "{err}");
    assert_eq!(facts("ch_bad"), expected(0..10));
    assert_eq!(leftovers("ch_bad"), "0");
    // Past the server's first part (1M rows): the request is cut off mid-body, and what it
    // already stored goes with the new table.
    write_rows(&fx, 0..1_300_000, Some(1_200_000));
    let run = fx.run(RunOptions::default()).await;
    let err = error(&run, "load");
    assert!(err.contains("column 'at', row 1200001: a time with fractions of a second"), "{err}");
    assert_eq!(facts("ch_bad"), expected(0..10));
    assert_eq!(leftovers("ch_bad"), "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_that_does_not_fit_or_a_wrong_password_is_refused_with_names() {
    let ch = server();
    ch.execute("DROP TABLE IF EXISTS ch_fit").unwrap();
    ch.execute("CREATE TABLE ch_fit (id Int64, name String, small Int32) ENGINE = MergeTree ORDER BY id").unwrap();
    let fx = fixture("ch_fit", "append");
    write_rows(&fx, 0..10, None);
    let run = fx.run(RunOptions::default()).await;
    let err = error(&run, "load");
    assert!(err.contains("table ch_fit does not fit the data"), "{err}");
    assert!(err.contains("column 'small' is Int32 in the table, Int16 in the data"), "{err}");
    assert!(err.contains("column 'ratio' is not in the table"), "{err}");
    assert_eq!(query("SELECT count() FROM ch_fit"), "0");

    let wrong = "not-the-ch-password-9";
    let connections = format!(
        "[connections.ch]\ntype = \"clickhouse\"\nurl = \"{}\"\nuser = \"{}\"\npassword = \"${{env:POLDER_TEST_CH_WRONG}}\"\n",
        var("URL"),
        var("USER")
    );
    std::fs::write(fx.tmp.path().join("connections.toml"), connections).unwrap();
    std::env::set_var("POLDER_TEST_CH_WRONG", wrong);
    let run = fx.run(RunOptions { force: true, ..Default::default() }).await;
    let err = error(&run, "load");
    assert!(err.contains("refused user 'polder' (connection 'ch')") && err.contains("Wrong password"), "{err}");
    assert!(!err.contains(wrong) && !format!("{run:?}").contains(wrong));
}

/// 100k rows whose `country` repeats 6 values, the empty string and NULL, and whose `code` is
/// distinct per row (a dictionary of 64k keys per block: 4-byte indexes).
fn write_labels(fx: &Fixture, ids: std::ops::Range<i64>) {
    const COUNTRIES: [Option<&str>; 8] =
        [Some("NL"), Some("DE"), Some("BE"), Some("FR"), Some("ES"), Some("Ünï"), Some(""), None];
    let mut df = df!(
        "id" => ids.clone().collect::<Vec<_>>(),
        "country" => ids.clone().map(|i| COUNTRIES[(i % 8) as usize]).collect::<Vec<_>>(),
        "code" => ids.clone().map(|i| format!("c{i}")).collect::<Vec<_>>(),
        "n" => ids.map(|i| i % 3).collect::<Vec<_>>(),
    )
    .unwrap();
    std::fs::create_dir_all(fx.dir().join("data")).unwrap();
    ParquetWriter::new(std::fs::File::create(fx.dir().join("data/t.parquet")).unwrap()).finish(&mut df).unwrap();
}

fn label_facts(table: &str) -> String {
    // `ifNull`: 18.16 cannot `sum` the Nullable lengths of a LowCardinality column.
    query(&format!(
        "SELECT concat('[', ifNull(country, 'null'), ']'), isNull(country), count(), sum(id), uniqExact(code), sum(length(ifNull(code, ''))) \
         FROM {table} GROUP BY country ORDER BY country"
    ))
}

fn label_expected(ids: std::ops::Range<i64>) -> String {
    // ClickHouse sorts NULL last and the empty string first.
    let order = [6usize, 2, 1, 4, 3, 0, 5, 7];
    let names = ["[NL]", "[DE]", "[BE]", "[FR]", "[ES]", "[Ünï]", "[]", "[null]"];
    let mut out = Vec::new();
    for k in order {
        let rows: Vec<i64> = ids.clone().filter(|i| (i % 8) as usize == k).collect();
        let len: usize = rows.iter().map(|i| format!("c{i}").len()).sum();
        out.push(format!(
            "{}\t{}\t{}\t{}\t{}\t{len}",
            names[k],
            u8::from(k == 7),
            rows.len(),
            rows.iter().sum::<i64>(),
            rows.len()
        ));
    }
    out.join("\n")
}

fn column_types(table: &str) -> String {
    query(&format!("SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = '{table}'"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn low_cardinality_text_columns_load_their_values_nulls_and_empty_strings() {
    let ch = server();
    ch.execute("DROP TABLE IF EXISTS ch_labels").unwrap();
    // 18.16 has the type only behind a setting: with no list, nothing becomes LowCardinality.
    assert!(ch.low_cardinality_is_experimental().unwrap());
    let fx = fixture("ch_labels", "replace");
    write_labels(&fx, 0..100_000);
    assert_eq!(fx.run(RunOptions::default()).await.status, RunStatus::Success);
    assert_eq!(column_types("ch_labels"), "id\tInt64\ncountry\tNullable(String)\ncode\tNullable(String)\nn\tNullable(Int64)");
    assert_eq!(label_facts("ch_labels"), label_expected(0..100_000));

    // Listed columns are, across several blocks; the sorting key too, without Nullable.
    let fx = fixture_with("ch_labels", "replace", "low_cardinality = [\"country\", \"code\"]\n");
    write_labels(&fx, 0..100_000);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert_eq!(
        column_types("ch_labels"),
        "id\tInt64\ncountry\tLowCardinality(Nullable(String))\ncode\tLowCardinality(Nullable(String))\nn\tNullable(Int64)"
    );
    assert_eq!(label_facts("ch_labels"), label_expected(0..100_000));
    assert_eq!(
        query("SELECT ifNull(country, 'null'), code FROM ch_labels WHERE id IN (65541, 99999) ORDER BY id"),
        "Ünï\tc65541\nnull\tc99999"
    );

    // Appending to it sends the columns as the table has them.
    let fx = fixture("ch_labels", "append");
    write_labels(&fx, 100_000..130_000);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert_eq!(label_facts("ch_labels"), label_expected(0..130_000));
    assert_eq!(leftovers("ch_labels"), "0");

    // Only text columns can be listed.
    let fx = fixture_with("ch_labels", "replace", "low_cardinality = [\"n\"]\n");
    write_labels(&fx, 0..10);
    let run = fx.run(RunOptions::default()).await;
    assert!(error(&run, "load").contains("low_cardinality column 'n' is i64; only text columns"), "{}", error(&run, "load"));
    assert_eq!(query("SELECT count() FROM ch_labels"), "130000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_view_loads_without_a_stored_copy() {
    server().execute("DROP TABLE IF EXISTS ch_view").unwrap();
    let fx = fixture("ch_view", "replace");
    let spec = std::fs::read_to_string(fx.dir().join("pipeline.toml"))
        .unwrap()
        .replace("path = \"data/t.parquet\"\n", "path = \"data/t.parquet\"\nmaterialize = \"view\"\n");
    fx.write("pipeline.toml", &spec);
    write_rows(&fx, 0..150_000, None);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert_eq!(facts("ch_view"), expected(0..150_000));
    assert_eq!(list_facts("ch_view"), list_expected(0..150_000));
    let t = run.tasks.iter().find(|t| t.task == "t").unwrap();
    assert_eq!(t.artifact, None, "a view stores nothing");
    assert_eq!(run.tasks.iter().find(|t| t.task == "load").unwrap().rows, Some(150_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_during_replaces_see_the_old_table_or_the_new_one() {
    server().execute("DROP TABLE IF EXISTS ch_swap").unwrap();
    let fx = fixture("ch_swap", "replace");
    write_rows(&fx, 0..1000, None);
    assert_eq!(fx.run(RunOptions::default()).await.status, RunStatus::Success);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let done = done.clone();
        std::thread::spawn(move || {
            let ch = server();
            let mut seen = std::collections::BTreeMap::<String, usize>::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let answer = ch.execute("SELECT count(), sum(id) FROM ch_swap").unwrap_or_else(|e| format!("error: {e}"));
                *seen.entry(answer.trim().to_string()).or_default() += 1;
            }
            seen
        })
    };
    for k in 0..8 {
        let rows = if k % 2 == 0 { 0..2000 } else { 0..1000 };
        write_rows(&fx, rows, None);
        let run = fx.run(RunOptions::default()).await;
        assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let seen = reader.join().unwrap();
    let whole = ["1000\t499500", "2000\t1999000"];
    assert!(seen.keys().all(|k| whole.contains(&k.as_str())), "{seen:?}");
    assert!(seen.values().sum::<usize>() > 20, "too few reads to tell: {seen:?}");
    assert_eq!(leftovers("ch_swap"), "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_reaches_the_server_when_its_certificate_chains_to_ca_cert() {
    server().execute("DROP TABLE IF EXISTS ch_https").unwrap();
    let fx = fixture("ch_https", "replace");
    write_rows(&fx, 0..70_000, None);
    let connect_with = |url: &str, lines: &str| {
        let connections = format!(
            "[connections.ch]\ntype = \"clickhouse\"\nurl = \"{url}\"\nuser = \"{}\"\npassword = \"${{env:POLDER_TEST_CH_PASSWORD}}\"\n{lines}",
            var("USER")
        );
        std::fs::write(fx.tmp.path().join("connections.toml"), connections).unwrap();
    };
    let https = var("HTTPS_URL");
    connect_with(&https, &format!("ca_cert = \"{}\"\n", var("CA")));
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert_eq!(facts("ch_https"), expected(0..70_000));
    // The name in the certificate is checked too: localhost is in it.
    connect_with(&https.replace("127.0.0.1", "localhost"), &format!("ca_cert = \"{}\"\n", var("CA")));
    assert_eq!(fx.run(RunOptions { force: true, ..Default::default() }).await.status, RunStatus::Success);
    // Without the test CA (the system's roots only), the server is not trusted.
    connect_with(&https, "");
    let run = fx.run(RunOptions { force: true, ..Default::default() }).await;
    let err = error(&run, "load");
    assert!(err.contains(&format!("cannot reach ClickHouse at {https} (connection 'ch')")), "{err}");
    assert!(err.contains("set `ca_cert`"), "{err}");
    assert_eq!(facts("ch_https"), expected(0..70_000));
}
