//! A `polder run` killed with SIGKILL in the middle of a PostgreSQL `replace` load: the server
//! rolls the load back, so the old table is still whole and no work table is left; the next run
//! loads everything. Needs the test server (`scripts/pg-server.sh`, as scripts/test.sh starts it).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn var(key: &str) -> String {
    std::env::var(format!("POLDER_TEST_PG_{key}")).unwrap_or_else(|_| {
        panic!("POLDER_TEST_PG_{key} is not set: run `scripts/pg-server.sh start && eval \"$(scripts/pg-server.sh env)\"` first (scripts/test.sh does)")
    })
}

/// One value from `psql -c sql` (Debian's client, installed with the server).
fn psql(sql: &str) -> String {
    let out = Command::new("psql")
        .args(["-h", &var("HOST"), "-p", &var("PORT"), "-U", &var("USER"), "-d", &var("DATABASE"), "-qAt", "-c", sql])
        .env("PGPASSWORD", var("PASSWORD"))
        .output()
        .expect("psql runs");
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn write_pipeline(ws: &Path, rows: usize) -> std::path::PathBuf {
    let dir = ws.join("load");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let spec = "[pipeline]\nname = \"load\"\n\n[[task]]\nid = \"sales\"\nkind = \"source\"\nformat = \"csv\"\npath = \"data/sales.csv\"\n\n\
                [[task]]\nid = \"to_pg\"\nkind = \"sink\"\ninput = \"sales\"\nformat = \"postgres\"\nconnection = \"pg\"\ntable = \"t_kill.sales\"\nmode = \"replace\"\n";
    std::fs::write(dir.join("pipeline.toml"), spec).unwrap();
    let mut csv = String::with_capacity(rows * 32);
    csv.push_str("id,name,amount\n");
    for i in 0..rows {
        csv.push_str(&format!("{i},customer {},{}.25\n", i % 5000, i % 1000));
    }
    std::fs::write(dir.join("data/sales.csv"), csv).unwrap();
    let connections = format!(
        "[connections.pg]\ntype = \"postgres\"\nhost = \"{}\"\nport = \"{}\"\ndatabase = \"{}\"\nuser = \"{}\"\npassword = \"${{env:POLDER_TEST_PG_PASSWORD}}\"\n",
        var("HOST"),
        var("PORT"),
        var("DATABASE"),
        var("USER")
    );
    std::fs::write(ws.join("connections.toml"), connections).unwrap();
    dir
}

#[test]
fn a_run_killed_during_a_replace_leaves_the_old_table_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    let rows = 2_000_000;
    let dir = write_pipeline(ws, rows);
    psql("DROP SCHEMA IF EXISTS t_kill CASCADE; CREATE SCHEMA t_kill; CREATE TABLE t_kill.sales (id bigint, name text, amount double precision); INSERT INTO t_kill.sales VALUES (1, 'old', 1.5), (2, 'old', 2.5), (3, 'old', 3.5)");
    let copying = || psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'polder' AND query LIKE 'COPY%'");
    let mut child = Command::new(env!("CARGO_BIN_EXE_polder"))
        .arg("--workspace")
        .arg(ws)
        .args(["run", &dir.display().to_string()])
        .env_remove("POLDER_WORKSPACE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the load never started its COPY", Duration::from_secs(120), || copying() != "0");
    child.kill().unwrap(); // SIGKILL, mid-COPY
    child.wait().unwrap();
    // The server notices the closed connection and rolls its transaction back.
    wait_for("the killed load's session stayed", Duration::from_secs(20), || {
        psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'polder'") == "0"
    });
    assert_eq!(psql("SELECT count(*) || ' ' || sum(amount) FROM t_kill.sales"), "3 7.5");
    // The new table the killed run was loading (its streams commit on their own) is left for
    // the next run, which drops it first.
    let leftovers = || psql("SELECT count(*) FROM pg_class WHERE relname LIKE '%\\_\\_polder\\_%'");
    assert!(["0", "1"].contains(&leftovers().as_str()));

    let out = Command::new(env!("CARGO_BIN_EXE_polder"))
        .arg("--workspace")
        .arg(ws)
        .args(["run", &dir.display().to_string()])
        .env_remove("POLDER_WORKSPACE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let sum_ids = (rows as u64) * (rows as u64 - 1) / 2;
    assert_eq!(psql("SELECT count(*) || ' ' || sum(id) FROM t_kill.sales"), format!("{rows} {sum_ids}"));
    assert_eq!(leftovers(), "0");
}
