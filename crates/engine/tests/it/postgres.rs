//! Frames into a real PostgreSQL through binary COPY (`polder_engine::postgres`): the server
//! started by `scripts/pg-server.sh` (scripts/test.sh does), reached through `POLDER_TEST_PG_*`.

use bytes::Bytes;
use futures::SinkExt;
use polars::prelude::*;
use polder_engine::postgres::copy::{encode_rows, HEADER, TRAILER};
use polder_engine::postgres::PgType;

fn var(key: &str) -> String {
    std::env::var(format!("POLDER_TEST_PG_{key}")).unwrap_or_else(|_| {
        panic!("POLDER_TEST_PG_{key} is not set: run `scripts/pg-server.sh start && eval \"$(scripts/pg-server.sh env)\"` first (scripts/test.sh does)")
    })
}

async fn client() -> tokio_postgres::Client {
    let mut config = tokio_postgres::Config::new();
    config
        .host(var("HOST"))
        .port(var("PORT").parse().unwrap())
        .user(var("USER"))
        .password(var("PASSWORD"))
        .dbname(var("DATABASE"))
        .connect_timeout(std::time::Duration::from_secs(5));
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Creates `table` from the frame's schema and loads the frame with one binary COPY.
async fn load(client: &tokio_postgres::Client, table: &str, df: &DataFrame) -> u64 {
    let types: Vec<PgType> = df.columns().iter().map(|c| PgType::of(c.dtype()).unwrap()).collect();
    let columns: Vec<String> =
        df.columns().iter().zip(&types).map(|(c, t)| format!("\"{}\" {}", c.name(), t.sql_name())).collect();
    client.batch_execute(&format!("DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({})", columns.join(", "))).await.unwrap();
    let mut data = HEADER.to_vec();
    encode_rows(df, &types, 0, &mut data).unwrap();
    data.extend_from_slice(TRAILER);
    let sink = client.copy_in(&format!("COPY {table} FROM STDIN (FORMAT binary)")).await.unwrap();
    futures::pin_mut!(sink);
    sink.send(Bytes::from(data)).await.unwrap();
    sink.finish().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mapped_type_round_trips_through_binary_copy_with_nulls() {
    let client = client().await;
    let us = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap().and_utc().timestamp_micros();
    let instants = [us("2024-02-29 13:14:15.123456"), us("1969-12-31 23:59:59.999999"), us("1999-12-31 23:59:59"), 0];
    let mut df = df!(
        "id" => [1i64, 2, 3, 4],
        "b" => [Some(true), Some(false), None, Some(true)],
        "i8" => [Some(-128i8), Some(127), None, Some(0)],
        "i16" => [Some(i16::MIN), Some(i16::MAX), None, Some(0)],
        "i32" => [Some(i32::MIN), Some(i32::MAX), None, Some(-1)],
        "i64" => [Some(i64::MIN), Some(i64::MAX), None, Some(42)],
        "u8" => [Some(255u8), Some(0), None, Some(1)],
        "u16" => [Some(65_535u16), Some(0), None, Some(1)],
        "u32" => [Some(u32::MAX), Some(0), None, Some(1)],
        "u64" => [Some(i64::MAX as u64), Some(0), None, Some(1)],
        "f32" => [Some(1.0f32 / 3.0), Some(f32::INFINITY), None, Some(-0.5)],
        "f64" => [Some(1.0f64 / 7.0), Some(f64::NAN), None, Some(f64::NEG_INFINITY)],
        "s" => [Some("zoë 🦀"), Some(""), None, Some("it's \"quoted\"\nand\ttabbed")],
        "bin" => [Some(&[1u8, 2, 255][..]), Some(&[][..]), None, Some(&[0u8][..])],
    )
    .unwrap();
    let extra = [
        Int32Chunked::new("d".into(), [Some(19_782), Some(-1), None, Some(10_956)]).into_date().into_series(),
        Int64Chunked::new("t".into(), [Some(47_655_123_456_789), Some(0), None, Some(86_399_999_999_999)])
            .into_time()
            .into_series(),
        Int64Chunked::new("ts".into(), instants.map(Some)).into_datetime(TimeUnit::Microseconds, None).into_series(),
        Int64Chunked::new("ts_ms".into(), instants.map(|v| Some(v.div_euclid(1000))))
            .into_datetime(TimeUnit::Milliseconds, None)
            .into_series(),
        Int64Chunked::new("ts_ns".into(), [Some(instants[0] * 1000 + 999), None, Some(instants[2] * 1000), Some(-1)])
            .into_datetime(TimeUnit::Nanoseconds, None)
            .into_series(),
        Int64Chunked::new("tz".into(), instants.map(Some))
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::opt_try_new(Some("Europe/Amsterdam")).unwrap().unwrap()))
            .into_series(),
        Series::new("cat".into(), [Some("a"), None, Some("bb"), Some("a")])
            .cast(&DataType::from_categories(Categories::global()))
            .unwrap(),
        Series::new_null("nothing".into(), 4),
        Int128Chunked::new("dec".into(), [Some(123_456_789_123i128), Some(-1), None, Some(0)])
            .into_decimal(12, 3)
            .unwrap()
            .into_series(),
        Int128Chunked::new("dec0".into(), [Some(10i128.pow(37)), Some(-1), None, Some(10_000)])
            .into_decimal(38, 0)
            .unwrap()
            .into_series(),
        Int128Chunked::new("dec8".into(), [Some(1i128), Some(150_000_000), None, Some(-9_999_999_999_999_999)])
            .into_decimal(20, 8)
            .unwrap()
            .into_series(),
        ListChunked::from_iter([
            Some(Series::new("".into(), [Some(1i64), Some(2), Some(3)])),
            Some(Series::new_empty("".into(), &DataType::Int64)),
            None,
            Some(Series::new("".into(), [None, Some(5i64)])),
        ])
        .with_name("ints".into())
        .into_series(),
        ListChunked::from_iter([
            Some(Series::new("".into(), [Some("a"), Some("b,c")])),
            Some(Series::new("".into(), [""])),
            None,
            Some(Series::new("".into(), [None::<&str>])),
        ])
        .with_name("words".into())
        .into_series(),
    ];
    for s in extra {
        df.with_column(s.into()).unwrap();
    }
    assert_eq!(load(&client, "round_trip", &df).await, 4);

    // The created columns have the types the mapping names.
    let created: Vec<(String, String)> = client
        .query(
            "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'round_trip'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let expected: Vec<(String, String)> =
        df.columns().iter().map(|c| (c.name().to_string(), PgType::of(c.dtype()).unwrap().sql_name())).collect();
    assert_eq!(created, expected);
    let named = |n: &str| created.iter().find(|(c, _)| c == n).map(|(_, t)| t.as_str()).unwrap();
    assert_eq!(
        (named("dec"), named("dec0"), named("ints"), named("words")),
        ("numeric(12,3)", "numeric(38,0)", "bigint[]", "text[]")
    );

    client.batch_execute("SET TimeZone = 'UTC'").await.unwrap();
    let names: Vec<String> = df.columns().iter().map(|c| format!("\"{}\"::text", c.name())).collect();
    let rows = client.query(&format!("SELECT {} FROM round_trip ORDER BY id", names.join(", ")), &[]).await.unwrap();
    let text: Vec<Vec<Option<String>>> =
        rows.iter().map(|r| (0..names.len()).map(|i| r.get::<_, Option<String>>(i)).collect()).collect();
    let column = |name: &str| -> Vec<Option<&str>> {
        let i = df.columns().iter().position(|c| c.name() == name).unwrap();
        text.iter().map(|row| row[i].as_deref()).collect()
    };
    assert_eq!(column("b"), [Some("true"), Some("false"), None, Some("true")]);
    assert_eq!(column("i8"), [Some("-128"), Some("127"), None, Some("0")]);
    assert_eq!(column("i16"), [Some("-32768"), Some("32767"), None, Some("0")]);
    assert_eq!(column("i32"), [Some("-2147483648"), Some("2147483647"), None, Some("-1")]);
    assert_eq!(column("i64"), [Some("-9223372036854775808"), Some("9223372036854775807"), None, Some("42")]);
    assert_eq!(column("u8"), [Some("255"), Some("0"), None, Some("1")]);
    assert_eq!(column("u16"), [Some("65535"), Some("0"), None, Some("1")]);
    assert_eq!(column("u32"), [Some("4294967295"), Some("0"), None, Some("1")]);
    assert_eq!(column("u64"), [Some("9223372036854775807"), Some("0"), None, Some("1")]);
    assert_eq!(column("f32"), [Some("0.33333334"), Some("Infinity"), None, Some("-0.5")]);
    assert_eq!(column("f64"), [Some("0.14285714285714285"), Some("NaN"), None, Some("-Infinity")]);
    assert_eq!(column("s"), [Some("zoë 🦀"), Some(""), None, Some("it's \"quoted\"\nand\ttabbed")]);
    assert_eq!(column("bin"), [Some("\\x0102ff"), Some("\\x"), None, Some("\\x00")]);
    assert_eq!(column("d"), [Some("2024-02-29"), Some("1969-12-31"), None, Some("1999-12-31")]);
    assert_eq!(column("t"), [Some("13:14:15.123456"), Some("00:00:00"), None, Some("23:59:59.999999")]);
    let ts = [
        Some("2024-02-29 13:14:15.123456"),
        Some("1969-12-31 23:59:59.999999"),
        Some("1999-12-31 23:59:59"),
        Some("1970-01-01 00:00:00"),
    ];
    assert_eq!(column("ts"), ts);
    // Milliseconds: the sub-millisecond digits were never there.
    assert_eq!(column("ts_ms"), [Some("2024-02-29 13:14:15.123"), Some("1969-12-31 23:59:59.999"), ts[2], ts[3]]);
    // Nanoseconds are truncated toward the past to microseconds.
    assert_eq!(column("ts_ns"), [ts[0], None, ts[2], Some("1969-12-31 23:59:59.999999")]);
    assert_eq!(column("tz"), ts.map(|t| t.map(|t| format!("{t}+00"))).iter().map(|t| t.as_deref()).collect::<Vec<_>>());
    assert_eq!(column("cat"), [Some("a"), None, Some("bb"), Some("a")]);
    assert_eq!(column("nothing"), [None, None, None, None]);
    assert_eq!(column("dec"), [Some("123456789.123"), Some("-0.001"), None, Some("0.000")]);
    assert_eq!(column("dec0"), [Some("10000000000000000000000000000000000000"), Some("-1"), None, Some("10000")]);
    assert_eq!(column("dec8"), [Some("0.00000001"), Some("1.50000000"), None, Some("-99999999.99999999")]);
    assert_eq!(column("ints"), [Some("{1,2,3}"), Some("{}"), None, Some("{NULL,5}")]);
    assert_eq!(column("words"), [Some("{a,\"b,c\"}"), Some("{\"\"}"), None, Some("{NULL}")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_rows_arrive_whole_with_their_sums() {
    let client = client().await;
    let n = 100_000i64;
    let df = df!(
        "id" => (0..n).collect::<Vec<_>>(),
        "amount" => (0..n).map(|i| (i % 1000) as f64 / 4.0).collect::<Vec<_>>(),
        "name" => (0..n).map(|i| (i % 3 != 0).then(|| format!("customer {i}"))).collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(load(&client, "many", &df).await, n as u64);
    let row =
        client.query_one("SELECT count(*), sum(id)::text, sum(amount), count(name), max(name) FROM many", &[]).await.unwrap();
    assert_eq!(row.get::<_, i64>(0), n);
    assert_eq!(row.get::<_, String>(1), (n * (n - 1) / 2).to_string());
    let expected_amount: f64 = (0..n).map(|i| (i % 1000) as f64 / 4.0).sum();
    assert_eq!(row.get::<_, f64>(2), expected_amount);
    assert_eq!(row.get::<_, i64>(3), n - (n + 2) / 3);
    assert_eq!(row.get::<_, String>(4), "customer 99998");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_width_is_refused_by_the_server_and_loads_nothing() {
    // The frame's Int64 written as bigint into an integer column: PostgreSQL refuses the data.
    let client = client().await;
    client.batch_execute("DROP TABLE IF EXISTS narrow; CREATE TABLE narrow (n integer)").await.unwrap();
    let df = df!("n" => [1i64, 2]).unwrap();
    let mut data = HEADER.to_vec();
    encode_rows(&df, &[PgType::Int8], 0, &mut data).unwrap();
    data.extend_from_slice(TRAILER);
    let sink = client.copy_in("COPY narrow FROM STDIN (FORMAT binary)").await.unwrap();
    futures::pin_mut!(sink);
    let sent = async {
        sink.send(Bytes::from(data)).await?;
        sink.finish().await
    }
    .await;
    let err = sent.unwrap_err();
    let message = err.as_db_error().map(|e| e.message().to_string()).unwrap_or_else(|| err.to_string());
    assert!(
        message.contains("insufficient data left in message") || message.contains("incorrect binary data format"),
        "{message}"
    );
    let count: i64 = client.query_one("SELECT count(*) FROM narrow", &[]).await.unwrap().get(0);
    assert_eq!(count, 0);
}

// ---- The `postgres` sink, run as a pipeline task ----

use polder_engine::{RunOptions, RunStatus, TaskStatus};

use crate::common::*;

/// A pipeline loading `data/*.parquet` into `{schema}.sales` with `mode` (and `extra` lines),
/// through connection `pg` (the test server; its password from the environment).
fn sink_fixture(schema: &str, mode: &str, extra: &str) -> Fixture {
    let spec = format!(
        r#"
[pipeline]
name = "pg"

[[task]]
id = "sales"
kind = "source"
format = "parquet"
path = "data/*.parquet"

[[task]]
id = "load"
kind = "sink"
input = "sales"
format = "postgres"
connection = "pg"
table = "{schema}.sales"
mode = "{mode}"
{extra}
"#
    );
    let fx = Fixture::new(&spec, &[]);
    let connections = format!(
        "[connections.pg]\ntype = \"postgres\"\nhost = \"{}\"\nport = \"{}\"\ndatabase = \"{}\"\nuser = \"{}\"\npassword = \"${{env:POLDER_TEST_PG_PASSWORD}}\"\n",
        var("HOST"),
        var("PORT"),
        var("DATABASE"),
        var("USER")
    );
    std::fs::write(fx.tmp.path().join("connections.toml"), connections).unwrap();
    fx
}

/// Writes the sales rows `ids` (name, amount and day derived from the id, `bump` added to amounts).
fn write_sales(fx: &Fixture, ids: std::ops::Range<i64>, bump: f64) {
    let n = ids.end - ids.start;
    let mut df = df!(
        "id" => ids.clone().collect::<Vec<_>>(),
        "name" => ids.clone().map(|i| (i % 7 != 0).then(|| format!("product {i}"))).collect::<Vec<_>>(),
        "amount" => ids.clone().map(|i| (i % 100) as f64 * 1.25 + bump).collect::<Vec<_>>(),
    )
    .unwrap();
    let day = Int32Chunked::new("day".into(), ids.map(|i| 19_000 + (i % 30) as i32).collect::<Vec<_>>()).into_date();
    df.with_column(day.into_series().into()).unwrap();
    assert_eq!(df.height() as i64, n);
    std::fs::create_dir_all(fx.dir().join("data")).unwrap();
    ParquetWriter::new(std::fs::File::create(fx.dir().join("data/sales.parquet")).unwrap()).finish(&mut df).unwrap();
}

async fn reset_schema(schema: &str) -> tokio_postgres::Client {
    let c = client().await;
    c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await.unwrap();
    c
}

/// count(*), sum(id), sum(amount), count(name) of the table.
async fn facts(c: &tokio_postgres::Client, table: &str) -> (i64, i64, f64, i64) {
    let r = c
        .query_one(
            &format!("SELECT count(*), coalesce(sum(id), 0)::bigint, coalesce(sum(amount), 0), count(name) FROM {table}"),
            &[],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1), r.get(2), r.get(3))
}

fn expected(ids: std::ops::Range<i64>, bump: f64) -> (i64, i64, f64, i64) {
    let n = ids.end - ids.start;
    (n, ids.clone().sum(), ids.clone().map(|i| (i % 100) as f64 * 1.25 + bump).sum(), ids.filter(|i| i % 7 != 0).count() as i64)
}

/// Work tables left in `schema` (tests run at once: each looks at its own schema; an upsert's
/// temporary table is in no test's schema, and gone with its session anyway).
async fn leftovers(c: &tokio_postgres::Client, schema: &str) -> i64 {
    c.query_one(
        "SELECT count(*) FROM pg_class JOIN pg_namespace n ON n.oid = relnamespace \
         WHERE relname LIKE '%\\_\\_polder\\_%' AND n.nspname = $1",
        &[&schema],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replace_swaps_in_a_whole_new_table_and_create_refuses_an_existing_one() {
    let c = reset_schema("t_replace").await;
    let fx = sink_fixture("t_replace", "replace", "");
    write_sales(&fx, 0..150_000, 0.0);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert_eq!(run.task("load").unwrap().rows, Some(150_000));
    assert_eq!(facts(&c, "t_replace.sales").await, expected(0..150_000, 0.0));
    let types: Vec<(String, String)> = c
        .query("SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = 't_replace' AND table_name = 'sales' ORDER BY ordinal_position", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let types: Vec<(&str, &str)> = types.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(types, [("id", "bigint"), ("name", "text"), ("amount", "double precision"), ("day", "date")]);
    // New data replaces the table whole; no work table is left behind.
    write_sales(&fx, 10..20, 0.5);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert_eq!(facts(&c, "t_replace.sales").await, expected(10..20, 0.5));
    assert_eq!(leftovers(&c, "t_replace").await, 0);
    let log = std::fs::read_to_string(fx.ws.state_dir().join(format!("logs/pg/run-{}/load.log", run.run_id))).unwrap();
    assert!(log.contains("loaded 10 rows into t_replace.sales at 127.0.0.1:"), "{log}");
    assert!(!log.contains(&var("PASSWORD")) && !format!("{run:?}").contains(&var("PASSWORD")));

    let fx = sink_fixture("t_replace", "create", "");
    write_sales(&fx, 0..5, 0.0);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "load"), TaskStatus::Failed);
    assert!(error(&run, "load").contains("table t_replace.sales already exists at 127.0.0.1:"), "{}", error(&run, "load"));
    assert_eq!(facts(&c, "t_replace.sales").await, expected(10..20, 0.5));
    c.batch_execute("DROP TABLE t_replace.sales").await.unwrap();
    let run = fx.run(RunOptions { force: true, ..Default::default() }).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert_eq!(facts(&c, "t_replace.sales").await, expected(0..5, 0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_adds_all_rows_each_run_and_upsert_is_idempotent() {
    let c = reset_schema("t_append").await;
    let fx = sink_fixture("t_append", "append", "");
    write_sales(&fx, 0..1000, 0.0);
    for round in 1..=2 {
        let run = fx.run(RunOptions { force: true, ..Default::default() }).await;
        assert_eq!(run.status, RunStatus::Success, "{run:#?}");
        let (n, ids, _, _) = facts(&c, "t_append.sales").await;
        assert_eq!((n, ids), (1000 * round, expected(0..1000, 0.0).1 * round));
    }

    let c = reset_schema("t_upsert").await;
    let fx = sink_fixture("t_upsert", "upsert", "key = [\"id\"]");
    write_sales(&fx, 0..1000, 0.0);
    for _ in 0..2 {
        let run = fx.run(RunOptions { force: true, ..Default::default() }).await;
        assert_eq!(run.status, RunStatus::Success, "{run:#?}");
        assert_eq!(facts(&c, "t_upsert.sales").await, expected(0..1000, 0.0));
    }
    // The created table has the key as its primary key.
    let pk: String = c
        .query_one(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 't_upsert.sales'::regclass AND contype = 'p'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(pk, "PRIMARY KEY (id)");
    // Rows 500..1500 with new amounts: 500 updated, 500 added, 0..500 kept.
    write_sales(&fx, 500..1500, 100.0);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    let (n, ids, amount, _) = facts(&c, "t_upsert.sales").await;
    let want_amount = expected(0..500, 0.0).2 + expected(500..1500, 100.0).2;
    assert_eq!((n, ids, amount), (1500, expected(0..1500, 0.0).1, want_amount));
    assert_eq!(leftovers(&c, "t_upsert").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_that_does_not_fit_is_refused_column_by_column_before_any_row() {
    let c = reset_schema("t_fit").await;
    c.batch_execute("CREATE SCHEMA t_fit; CREATE TABLE t_fit.sales (id integer, name varchar(40), day date, extra text); INSERT INTO t_fit.sales VALUES (1, 'kept', '2024-01-01', 'x')")
        .await
        .unwrap();
    let fx = sink_fixture("t_fit", "append", "");
    write_sales(&fx, 0..10, 0.0);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "load"), TaskStatus::Failed);
    let err = error(&run, "load");
    assert!(err.contains("table t_fit.sales does not fit the data"), "{err}");
    assert!(err.contains("column 'id' is integer in the table, bigint in the data"), "{err}");
    assert!(err.contains("column 'amount' is not in the table (the data has double precision)"), "{err}");
    // varchar takes text; date fits: neither is named.
    assert!(!err.contains("'name'") && !err.contains("'day'"), "{err}");
    let kept: i64 = c.query_one("SELECT count(*) FROM t_fit.sales", &[]).await.unwrap().get(0);
    assert_eq!(kept, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_value_midway_leaves_the_old_table_whole() {
    let c = reset_schema("t_midway").await;
    let fx = sink_fixture("t_midway", "replace", "");
    write_sales(&fx, 0..3, 0.0);
    assert_eq!(fx.run(RunOptions::default()).await.status, RunStatus::Success);
    // 200,000 rows, the last one not fitting bigint: several batches are sent before it.
    let mut df = df!("id" => (0..200_000u64).map(|i| if i == 199_999 { u64::MAX } else { i }).collect::<Vec<_>>()).unwrap();
    ParquetWriter::new(std::fs::File::create(fx.dir().join("data/sales.parquet")).unwrap()).finish(&mut df).unwrap();
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "load"), TaskStatus::Failed);
    let err = error(&run, "load");
    assert!(err.contains("column 'id', row 200000: 18446744073709551615 does not fit PostgreSQL's bigint"), "{err}");
    assert_eq!(facts(&c, "t_midway.sales").await, expected(0..3, 0.0));
    assert_eq!(leftovers(&c, "t_midway").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_or_a_closed_port_fails_in_seconds_naming_the_connection_not_the_password() {
    let fx = sink_fixture("t_login", "replace", "");
    write_sales(&fx, 0..3, 0.0);
    let wrong = "not-the-password-42";
    let connections = format!(
        "[connections.pg]\ntype = \"postgres\"\nhost = \"127.0.0.1\"\nport = \"{}\"\ndatabase = \"polder\"\nuser = \"polder\"\npassword = \"${{env:POLDER_TEST_PG_WRONG}}\"\n",
        var("PORT")
    );
    std::fs::write(fx.tmp.path().join("connections.toml"), connections).unwrap();
    std::env::set_var("POLDER_TEST_PG_WRONG", wrong);
    let started = std::time::Instant::now();
    let run = fx.run(RunOptions::default()).await;
    let err = error(&run, "load");
    assert!(err.contains("cannot connect to PostgreSQL at 127.0.0.1:") && err.contains("connection 'pg'"), "{err}");
    assert!(err.contains("password authentication failed for user \"polder\""), "{err}");
    assert!(!err.contains(wrong) && !format!("{run:?}").contains(wrong));

    // Nothing listens on port 9 here.
    let connections = "[connections.pg]\ntype = \"postgres\"\nhost = \"127.0.0.1\"\nport = \"9\"\nuser = \"polder\"\n";
    std::fs::write(fx.tmp.path().join("connections.toml"), connections).unwrap();
    let run = fx.run(RunOptions { force: true, ..Default::default() }).await;
    let err = error(&run, "load");
    assert!(err.contains("cannot connect to PostgreSQL at 127.0.0.1:9/polder as 'polder' (connection 'pg')"), "{err}");
    assert!(err.to_lowercase().contains("refused"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));

    // A connection of another type is refused when the run is planned.
    std::fs::write(fx.tmp.path().join("connections.toml"), "[connections.pg]\ntype = \"s3\"\n").unwrap();
    let p = std::sync::Arc::new(polder_engine::load(&fx.dir()).unwrap());
    let planned =
        polder_engine::run_pipeline(fx.ws.clone(), p, RunOptions::default(), None, polder_engine::RunCancel::new()).await;
    let err = planned.unwrap_err().to_string();
    assert!(err.contains("connection 'pg' has type = \"s3\"; this task needs a type = \"postgres\" connection"), "{err}");
}

// ---- The `postgres` source ----

fn source_fixture(source: &str, rest: &str) -> Fixture {
    let spec = format!(
        "[pipeline]\nname = \"pg\"\n\n[params]\nmin_id = {{ type = \"int\", default = 0 }}\n\n[[task]]\nid = \"src\"\nkind = \"source\"\nformat = \"postgres\"\nconnection = \"pg\"\n{source}\n\n{rest}"
    );
    let fx = sink_fixture("unused", "replace", "");
    std::fs::write(fx.dir().join("pipeline.toml"), spec).unwrap();
    fx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_source_reads_every_type_and_a_sink_writes_the_same_table_back() {
    let c = reset_schema("t_src").await;
    c.batch_execute(
        "CREATE SCHEMA t_src;
         CREATE TABLE t_src.things (id bigint, small smallint, mid integer, ok boolean, r real, d double precision,
             name text, code varchar(8), tag char(3), raw bytea, day date, at time, ts timestamp, tz timestamptz);
         INSERT INTO t_src.things VALUES
             (1, -32768, 2147483647, true, 0.5, 1e308, 'zoë 🦀', 'abc', 'xy', '\\x00ff', '1999-12-31', '13:14:15.123456',
              '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15.123456+01'),
             (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
             (3, 0, -1, false, -0.25, -2.5, '', '', '', '\\x', '1969-12-31', '00:00:00', '1969-12-31 23:59:59.999999', '1970-01-01 00:00:00+00');",
    )
    .await
    .unwrap();
    let fx = source_fixture(
        "table = \"t_src.things\"",
        "[[task]]\nid = \"back\"\nkind = \"sink\"\ninput = \"src\"\nformat = \"postgres\"\nconnection = \"pg\"\ntable = \"t_src.copy\"\n",
    );
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    let got = rows(&run, "src");
    assert_eq!(got.len(), 3);
    let first = &got[0];
    assert_eq!((i(&first["id"]), i(&first["small"]), i(&first["mid"])), (1, -32768, 2147483647));
    assert_eq!((first["ok"].as_bool(), f(&first["r"]), f(&first["d"])), (Some(true), 0.5, 1e308));
    assert_eq!((s(&first["name"]), s(&first["code"]), s(&first["tag"])), ("zoë 🦀", "abc", "xy "));
    assert_eq!(s(&first["day"]), "1999-12-31");
    assert!(got[1].iter().filter(|(k, _)| *k != "id").all(|(_, v)| v.is_null()), "{:?}", got[1]);
    // The artifact's types, as Polars reads them.
    let path = run.task("src").unwrap().artifact.clone().unwrap();
    let schema = ParquetReader::new(std::fs::File::open(&path).unwrap()).schema().unwrap();
    let types: Vec<String> = schema.iter_values().map(|f| format!("{:?}", f.dtype())).collect();
    assert_eq!(types.len(), 14, "{types:?}");
    // Every value survives the way back: the copy equals the original, row for row.
    let diff: i64 = c
        .query_one(
            // char(n) comes back padded ('xy '), as PostgreSQL sends it; compared as char(3).
            "SELECT count(*) FROM ((SELECT id, small, mid, ok, r, d, name, code::text, tag, raw, day, at, ts, tz FROM t_src.things
               EXCEPT SELECT id, small, mid, ok, r, d, name, code, tag::char(3), raw, day, at, ts, tz FROM t_src.copy)
              UNION ALL (SELECT id, small, mid, ok, r, d, name, code, tag::char(3), raw, day, at, ts, tz FROM t_src.copy
               EXCEPT SELECT id, small, mid, ok, r, d, name, code::text, tag, raw, day, at, ts, tz FROM t_src.things)) d",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(diff, 0);
    let n: i64 = c.query_one("SELECT count(*) FROM t_src.copy", &[]).await.unwrap().get(0);
    assert_eq!(n, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_with_a_parameter_reruns_every_time_and_reads_many_rows_in_batches() {
    let c = reset_schema("t_srcq").await;
    c.batch_execute(
        "CREATE SCHEMA t_srcq; CREATE TABLE t_srcq.n AS SELECT g AS id, g % 7 AS k FROM generate_series(1, 200000) g",
    )
    .await
    .unwrap();
    let fx = source_fixture("query = \"SELECT id, k FROM t_srcq.n WHERE id >= {{ min_id }}\"", "");
    let run = fx.run(RunOptions { params: vec![("min_id".into(), "100001".into())], ..Default::default() }).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert_eq!(run.task("src").unwrap().rows, Some(100_000));
    let all = rows(&run, "src");
    assert_eq!(all.iter().map(|r| i(&r["id"])).sum::<i64>(), (100_001..=200_000).sum::<i64>());
    // No cheap fingerprint for a database: the source runs again and sees new rows.
    c.batch_execute("INSERT INTO t_srcq.n VALUES (300000, 1)").await.unwrap();
    let again = fx.run(RunOptions { params: vec![("min_id".into(), "100001".into())], ..Default::default() }).await;
    assert_eq!(status(&again, "src"), TaskStatus::Success);
    assert_eq!(again.task("src").unwrap().rows, Some(100_001));
    // A notebook preview reads only the first rows (the parameter at its default, 0).
    let p = polder_engine::load(&fx.dir()).unwrap();
    let preview = polder_engine::preview::preview_task(&fx.ws, &p, "src", 5, None).unwrap();
    assert_eq!(preview.rows.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_types_and_bad_queries_are_named() {
    let fx = source_fixture("query = \"SELECT 1 AS id, 1.5::numeric AS price\"", "");
    let run = fx.run(RunOptions::default()).await;
    let err = error(&run, "src");
    assert!(err.contains("column 'price' is numeric in PostgreSQL") && err.contains("sum(price)::numeric(18,2)"), "{err}");
    let fx = source_fixture("query = \"SELECT 1.5::numeric(40,2) AS wide, 'NaN'::numeric(10,2) AS nan\"", "");
    let err = error(&fx.run(RunOptions::default()).await, "src");
    assert!(err.contains("column 'wide' is numeric") && err.contains("at most 38 digits"), "{err}");
    let fx = source_fixture("query = \"SELECT 'NaN'::numeric(10,2) AS nan\"", "");
    let err = error(&fx.run(RunOptions::default()).await, "src");
    assert!(err.contains("column 'nan', row 1: NaN, which a Polars decimal cannot hold"), "{err}");
    let fx = source_fixture("query = \"SELECT * FROM t_nowhere.nothing\"", "");
    let run = fx.run(RunOptions::default()).await;
    let err = error(&run, "src");
    assert!(err.contains("query at 127.0.0.1:") && err.contains("relation \"t_nowhere.nothing\" does not exist"), "{err}");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("pipeline.toml"),
        "[pipeline]\nname = \"x\"\n\n[[task]]\nid = \"a\"\nkind = \"source\"\nformat = \"postgres\"\npath = \"x\"\n",
    )
    .unwrap();
    let msg = polder_engine::load(tmp.path()).unwrap_err().to_string();
    assert!(msg.contains("needs `query` or `table`") && msg.contains("unknown field `path`"), "{msg}");
}

// ---- examples/parquet_to_postgres ----

/// Writes `polder gen sales` data (as the CLI does) into `dir/data/sales`; (rows, sum of ids,
/// sum of qty × price in cents).
fn gen_sales(dir: &std::path::Path, cfg: &polder_datagen::sales::SalesConfig) -> (i64, i64, i64) {
    use polder_engine::datafile::{write_parquet, Values};
    let (mut rows, mut ids, mut cents) = (0i64, 0i64, 0i64);
    for f in polder_datagen::sales::files(cfg) {
        rows += f.id.len() as i64;
        ids += f.id.iter().sum::<i64>();
        cents += f.qty.iter().zip(&f.price_cents).map(|(q, p)| *q as i64 * p).sum::<i64>();
        write_parquet(
            &dir.join("data/sales").join(&f.name),
            vec![
                ("id", Values::I64(f.id)),
                ("product", Values::Text(f.product)),
                ("store", Values::I32(f.store)),
                ("qty", Values::I32(f.qty)),
                ("price", Values::Decimal { unscaled: f.price_cents, precision: 10, scale: 2 }),
                ("sold_at", Values::DatetimeMicros(f.sold_at_us)),
                ("day", Values::Date(f.day)),
            ],
        )
        .unwrap();
    }
    (rows, ids, cents)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_parquet_to_postgres_example_replaces_the_table_and_upserts_daily_totals() {
    let c = reset_schema("shop").await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("parquet_to_postgres");
    copy_example("parquet_to_postgres", &dir);
    let connections = format!(
        "[connections.warehouse]\ntype = \"postgres\"\nhost = \"{}\"\nport = \"{}\"\ndatabase = \"{}\"\nuser = \"{}\"\npassword = \"${{env:POLDER_TEST_PG_PASSWORD}}\"\n",
        var("HOST"),
        var("PORT"),
        var("DATABASE"),
        var("USER")
    );
    std::fs::write(tmp.path().join("connections.toml"), connections).unwrap();
    let ws = std::sync::Arc::new(polder_engine::Workspace::open(tmp.path()).unwrap());
    let mut cfg = polder_datagen::sales::SalesConfig::with_rows(120_000);
    cfg.days = 20;
    let (rows, ids, cents) = gen_sales(&dir, &cfg);
    let run = run_dir(&ws, &dir, RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    let check = |sql: &'static str| {
        let c = &c;
        async move { c.query_one(sql, &[]).await.unwrap().get::<_, String>(0) }
    };
    assert_eq!(
        check("SELECT count(*) || ' ' || sum(id) || ' ' || sum(qty * price) FROM shop.sales").await,
        format!("{rows} {ids} {}.{:02}", cents / 100, cents % 100)
    );
    assert_eq!(check("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'shop.sales'::regclass AND attname = 'price'").await, "numeric(10,2)");
    let totals = "SELECT count(*) || ' ' || sum(lines) || ' ' || sum(revenue) FROM shop.daily_totals";
    let groups = check("SELECT count(DISTINCT (day, store))::text FROM shop.sales").await;
    assert_eq!(check(totals).await, format!("{groups} {rows} {}.{:02}", cents / 100, cents % 100));
    // Run again: the replace and the upsert give the same tables.
    let again = run_dir(&ws, &dir, RunOptions { force: true, ..Default::default() }).await;
    assert_eq!(again.status, RunStatus::Success, "{again:#?}");
    assert_eq!(check(totals).await, format!("{groups} {rows} {}.{:02}", cents / 100, cents % 100));
    // A later export with fewer days: sales holds exactly it, the totals keep the days it lacks.
    std::fs::remove_dir_all(dir.join("data/sales")).unwrap();
    let mut later = cfg.clone();
    (later.rows, later.days, later.seed) = (30_000, 5, 99);
    let (rows2, ids2, _) = gen_sales(&dir, &later);
    let third = run_dir(&ws, &dir, RunOptions::default()).await;
    assert_eq!(third.status, RunStatus::Success, "{third:#?}");
    assert_eq!(check("SELECT count(*) || ' ' || sum(id) FROM shop.sales").await, format!("{rows2} {ids2}"));
    let days: String = check("SELECT count(DISTINCT day)::text FROM shop.daily_totals").await;
    assert_eq!(days, "20");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_in_the_middle_of_a_copy_leaves_the_table_as_it_was() {
    let c = reset_schema("t_cancel").await;
    let fx = sink_fixture("t_cancel", "replace", "");
    write_sales(&fx, 0..3, 0.0);
    assert_eq!(fx.run(RunOptions::default()).await.status, RunStatus::Success);
    write_sales(&fx, 0..3_000_000, 0.0);
    let p = std::sync::Arc::new(polder_engine::load(&fx.dir()).unwrap());
    let cancel = polder_engine::RunCancel::new();
    let run = tokio::spawn(polder_engine::run_pipeline(fx.ws.clone(), p, RunOptions::default(), None, cancel.clone()));
    // Cancel once the load's COPY is under way.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let pid: i32 = loop {
        let copying = c
            .query_opt(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'polder' AND query LIKE 'COPY \"t_cancel\".%' LIMIT 1",
                &[],
            )
            .await
            .unwrap();
        if let Some(row) = copying {
            break row.get(0);
        }
        assert!(std::time::Instant::now() < deadline, "the load never started its COPY");
        assert!(!run.is_finished(), "the run ended before its COPY was seen: {:?}", run.await);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    cancel.cancel();
    let summary = run.await.unwrap().unwrap();
    assert_eq!(summary.status, RunStatus::Cancelled, "{summary:#?}");
    assert_eq!(status(&summary, "load"), TaskStatus::Cancelled);
    assert_eq!(facts(&c, "t_cancel.sales").await, expected(0..3, 0.0));
    // The cancelled session is gone, its transaction (and work table) rolled back.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let sessions: i64 = c.query_one("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", &[&pid]).await.unwrap().get(0);
        if sessions == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the cancelled load's session stayed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(leftovers(&c, "t_cancel").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numeric_columns_take_decimals_of_their_scale_or_finer_and_refuse_what_would_round() {
    // Decimal(12, 2): 12.34, -0.05, 999.99, NULL, 1234.56.
    let write = |fx: &Fixture| {
        let mut df = DataFrame::new(
            5,
            vec![
                Series::new("id".into(), [1i64, 2, 3, 4, 5]).into(),
                Int128Chunked::new("price".into(), [Some(1234i128), Some(-5), Some(99_999), None, Some(123_456)])
                    .into_decimal(12, 2)
                    .unwrap()
                    .into_series()
                    .into(),
            ],
        )
        .unwrap();
        std::fs::create_dir_all(fx.dir().join("data")).unwrap();
        ParquetWriter::new(std::fs::File::create(fx.dir().join("data/sales.parquet")).unwrap()).finish(&mut df).unwrap();
    };
    let c = client().await;
    let mut errors = Vec::new();
    for (schema, column) in [
        ("t_num_fine", "numeric(8,3)"),
        ("t_num_any", "numeric"),
        ("t_num_tight", "numeric(5,2)"),
        ("t_num_coarse", "numeric(10,1)"),
    ] {
        c.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; CREATE TABLE {schema}.sales (id bigint, price {column})"
        ))
        .await
        .unwrap();
        let fx = sink_fixture(schema, "append", "");
        write(&fx);
        let run = fx.run(RunOptions::default()).await;
        errors.push((run.status == RunStatus::Success).then(String::new).unwrap_or_else(|| error(&run, "load")));
    }
    let texts = |schema: &str| {
        let c = &c;
        let schema = schema.to_string();
        async move {
            let rows =
                c.query(&format!("SELECT coalesce(price::text, 'NULL') FROM {schema}.sales ORDER BY id"), &[]).await.unwrap();
            rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>().join(" ")
        }
    };
    // A finer scale pads, an unconstrained numeric keeps the values as they are.
    assert_eq!(errors[0], "");
    assert_eq!(texts("t_num_fine").await, "12.340 -0.050 999.990 NULL 1234.560");
    assert_eq!(errors[1], "");
    assert_eq!(texts("t_num_any").await, "12.34 -0.05 999.99 NULL 1234.56");
    // A value over the column's precision fails (the server names the column and line) and adds nothing.
    assert!(errors[2].contains("numeric field overflow") && errors[2].contains("line 5, column price"), "{}", errors[2]);
    assert_eq!(texts("t_num_tight").await, "");
    // A coarser scale would round every value silently: refused before any row.
    assert!(errors[3].contains("column 'price' is numeric(10,1) in the table, numeric(12,2) in the data"), "{}", errors[3]);
    assert_eq!(texts("t_num_coarse").await, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_of_parquet_loads_straight_from_a_source_view_without_a_stored_copy() {
    let c = reset_schema("t_view").await;
    let fx = sink_fixture("t_view", "replace", "");
    let spec = std::fs::read_to_string(fx.dir().join("pipeline.toml"))
        .unwrap()
        .replace("path = \"data/*.parquet\"\n", "path = \"data/*.parquet\"\nmaterialize = \"view\"\n");
    fx.write("pipeline.toml", &spec);
    write_sales(&fx, 0..200_000, 0.5);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    assert_eq!(facts(&c, "t_view.sales").await, expected(0..200_000, 0.5));
    let load = run.tasks.iter().find(|t| t.task == "load").unwrap();
    assert_eq!(load.rows, Some(200_000));
    let sales = run.tasks.iter().find(|t| t.task == "sales").unwrap();
    assert_eq!(sales.artifact, None, "a view stores nothing");
    assert_eq!(leftovers(&c, "t_view").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replace_under_a_dependent_view_fails_and_keeps_table_and_view() {
    let c = reset_schema("t_dep").await;
    let fx = sink_fixture("t_dep", "replace", "");
    write_sales(&fx, 0..3, 0.0);
    assert_eq!(fx.run(RunOptions::default()).await.status, RunStatus::Success);
    c.batch_execute("CREATE VIEW t_dep.big AS SELECT * FROM t_dep.sales WHERE amount > 1").await.unwrap();
    write_sales(&fx, 0..100_000, 0.0);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "load"), TaskStatus::Failed);
    let err = error(&run, "load");
    assert!(
        err.contains("cannot swap in the new t_dep.sales") && err.contains("view t_dep.big depends on table t_dep.sales"),
        "{err}"
    );
    assert!(err.contains("drop the dependent views before the load and create them again after it"), "{err}");
    assert_eq!(facts(&c, "t_dep.sales").await, expected(0..3, 0.0));
    let through_view: i64 = c.query_one("SELECT count(*) FROM t_dep.big", &[]).await.unwrap().get(0);
    assert_eq!(through_view, 2);
    assert_eq!(leftovers(&c, "t_dep").await, 0);
    // Nothing stays locked: the table takes writes at once.
    tokio::time::timeout(std::time::Duration::from_secs(5), c.batch_execute("INSERT INTO t_dep.sales (id) VALUES (99)"))
        .await
        .expect("the old table stayed locked")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numeric_reads_exactly_as_decimals_and_uuid_and_json_as_their_text() {
    let c = reset_schema("t_numsrc").await;
    c.batch_execute(
        "CREATE SCHEMA t_numsrc;
         CREATE TABLE t_numsrc.prices (id int, p numeric(20,4), big numeric(38,0), cents numeric(9,2));
         INSERT INTO t_numsrc.prices VALUES
           (1, 123.4567, 10000000000000000000000000000000000000, 0.01),
           (2, -0.0001, -99999999999999999999999999999999999999, -1234567.89),
           (3, 0, 0, 0),
           (4, NULL, NULL, NULL),
           (5, 9999999999999999.9999, 1, 100),
           (6, 1e10, 20000, 0.1),
           (7, 12.5, 10001, 10000.00);",
    )
    .await
    .unwrap();
    let fx = source_fixture(
        "table = \"t_numsrc.prices\"",
        "[[task]]\nid = \"back\"\nkind = \"sink\"\ninput = \"src\"\nformat = \"postgres\"\nconnection = \"pg\"\ntable = \"t_numsrc.copy\"\n",
    );
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    // The artifact's types are the columns' own.
    let lf = polars_engine_scan(&run, "src");
    let schema = lf.clone().collect_schema().unwrap();
    assert_eq!(schema.get("p"), Some(&DataType::Decimal(20, 4)));
    assert_eq!(schema.get("big"), Some(&DataType::Decimal(38, 0)));
    // Loaded back, every digit is the same.
    let text = |t: &'static str| {
        let c = &c;
        async move {
            let rows =
                c.query(&format!("SELECT concat_ws('|', id, p, big, cents) FROM t_numsrc.{t} ORDER BY id"), &[]).await.unwrap();
            rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>()
        }
    };
    let original = text("prices").await;
    assert_eq!(original.len(), 7);
    assert_eq!(text("copy").await, original);
    assert_eq!(original[1], "2|-0.0001|-99999999999999999999999999999999999999|-1234567.89");

    // uuid and json(b) arrive as their text, as PostgreSQL prints it.
    let fx = source_fixture(
        "query = \"SELECT 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid AS u, '{\\\"a\\\": [1, 2]}'::jsonb AS jb, \
         '{\\\"z\\\":1,  \\\"a\\\":2}'::json AS j, NULL::uuid AS nu\"",
        "",
    );
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    let got = rows(&run, "src");
    assert_eq!(got[0]["u"], "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    assert_eq!(got[0]["jb"], r#"{"a": [1, 2]}"#);
    assert_eq!(got[0]["j"], r#"{"z":1,  "a":2}"#);
    assert!(got[0]["nu"].is_null());
}

/// A lazy scan of a task's artifact in a run.
fn polars_engine_scan(run: &polder_engine::RunSummary, task: &str) -> LazyFrame {
    let t = run.tasks.iter().find(|t| t.task == task).unwrap();
    LazyFrame::scan_parquet(t.artifact.as_ref().unwrap().to_string_lossy().as_ref().into(), Default::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_encrypted_as_sslmode_says_and_verified_against_sslrootcert() {
    let fx = source_fixture("query = \"SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()\"", "");
    let connect_with = |lines: &str| {
        let connections = format!(
            "[connections.pg]\ntype = \"postgres\"\nhost = \"{}\"\nport = \"{}\"\ndatabase = \"{}\"\nuser = \"{}\"\npassword = \"${{env:POLDER_TEST_PG_PASSWORD}}\"\n{lines}",
            var("HOST"),
            var("PORT"),
            var("DATABASE"),
            var("USER")
        );
        std::fs::write(fx.tmp.path().join("connections.toml"), connections).unwrap();
    };
    let encrypted = |run: &polder_engine::RunSummary| {
        assert_eq!(run.status, RunStatus::Success, "{run:#?}");
        rows(run, "src")[0]["ssl"].as_bool().unwrap()
    };
    let ca = var("CA");
    // libpq's default, prefer: encrypted when the server offers it (the test server does).
    connect_with("");
    assert!(encrypted(&fx.run(RunOptions::default()).await));
    connect_with("sslmode = \"disable\"\n");
    assert!(!encrypted(&fx.run(RunOptions::default()).await));
    for mode in ["require", "verify-ca", "verify-full"] {
        connect_with(&format!("sslmode = \"{mode}\"\nsslrootcert = \"{ca}\"\n"));
        assert!(encrypted(&fx.run(RunOptions::default()).await), "{mode}");
    }
    // A relative sslrootcert is a file beside connections.toml.
    std::fs::copy(&ca, fx.tmp.path().join("test-ca.pem")).unwrap();
    connect_with("sslmode = \"verify-full\"\nsslrootcert = \"test-ca.pem\"\n");
    assert!(encrypted(&fx.run(RunOptions::default()).await));
    // The system's roots do not know the test CA: refused, saying what to set.
    connect_with("sslmode = \"verify-full\"\n");
    let err = error(&fx.run(RunOptions::default()).await, "src");
    assert!(err.contains("cannot connect to PostgreSQL at 127.0.0.1:") && err.contains("(connection 'pg')"), "{err}");
    assert!(err.contains("UnknownIssuer") && err.contains("set `sslrootcert`"), "{err}");
    connect_with("sslmode = \"verify-full\"\nsslrootcert = \"/nonexistent/ca.pem\"\n");
    let err = error(&fx.run(RunOptions::default()).await, "src");
    assert!(err.contains("connection 'pg': cannot read sslrootcert /nonexistent/ca.pem"), "{err}");
    // A wrong value is refused before any task runs.
    connect_with("sslmode = \"always\"\n");
    let p = std::sync::Arc::new(polder_engine::load(&fx.dir()).unwrap());
    let run = polder_engine::run_pipeline(fx.ws.clone(), p, RunOptions::default(), None, polder_engine::RunCancel::new());
    let err = run.await.map(|_| ()).unwrap_err().to_string();
    assert!(
        err.contains("connection 'pg': sslmode must be disable, prefer, require, verify-ca or verify-full, not `always`"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn struct_columns_load_as_jsonb_objects() {
    let c = reset_schema("t_json").await;
    let fx = sink_fixture("t_json", "replace", "");
    let device = StructChunked::from_series(
        "device".into(),
        3,
        [
            Series::new("os".into(), [Some("ios"), None, Some("linux \"x\"")]),
            Series::new("version".into(), [Some(17i64), Some(3), None]),
        ]
        .iter(),
    )
    .unwrap();
    let mut device = device.into_series();
    // Row 2's struct itself is NULL.
    device = device
        .zip_with(&BooleanChunked::new("".into(), [true, false, true]), &Series::full_null("".into(), 3, device.dtype()))
        .unwrap();
    let mut df = DataFrame::new(3, vec![Series::new("id".into(), [1i64, 2, 3]).into(), device.into()]).unwrap();
    std::fs::create_dir_all(fx.dir().join("data")).unwrap();
    ParquetWriter::new(std::fs::File::create(fx.dir().join("data/sales.parquet")).unwrap()).finish(&mut df).unwrap();
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    let ty: String = c
        .query_one("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 't_json.sales'::regclass AND attname = 'device'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(ty, "jsonb");
    let rows = c
        .query("SELECT coalesce(device::text, 'NULL'), coalesce(device->>'os', '-') FROM t_json.sales ORDER BY id", &[])
        .await
        .unwrap();
    let got: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        got,
        [
            (r#"{"os": "ios", "version": 17}"#.to_string(), "ios".to_string()),
            ("NULL".to_string(), "-".to_string()),
            (r#"{"os": "linux \"x\"", "version": null}"#.to_string(), "linux \"x\"".to_string()),
        ]
    );
}
