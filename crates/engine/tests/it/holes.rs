//! Parameters are values, not code; files stay inside the pipeline folder; the loader survives
//! any mutation of a pipeline file with located errors.

use polder_engine::{RunOptions, TaskStatus};

use crate::common::{error, rows, s, status, Fixture};

fn params(pairs: &[(&str, &str)]) -> RunOptions {
    RunOptions { params: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), ..Default::default() }
}

/// The attack of the issue: a value that closes the string literal and reads /etc/passwd.
const PASSWD_ATTACK: &str = "' AS v UNION ALL SELECT column0 FROM read_csv('/etc/passwd', header = false, sep = '|') --";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sql_parameter_is_a_value_on_both_engines() {
    let spec = "[pipeline]\nname = \"p\"\n\n[params]\nx = \"hello\"\n\n[[task]]\nid = \"duck\"\nkind = \"sql\"\nengine = \"duckdb\"\nsql = \"SELECT '{{ x }}' AS v\"\n\n[[task]]\nid = \"pol\"\nkind = \"sql\"\nsql = \"SELECT '{{ x }}' AS v, {{ x }} AS w\"\n";
    let fx = Fixture::new(spec, &[]);
    let run = fx.run(params(&[("x", PASSWD_ATTACK)])).await;
    for task in ["duck", "pol"] {
        assert_eq!(status(&run, task), TaskStatus::Success, "{task}: {}", error(&run, task));
        let out = rows(&run, task);
        // One row holding the value itself: nothing of /etc/passwd.
        assert_eq!(out.len(), 1, "{task}: {out:?}");
        assert_eq!(s(&out[0]["v"]), PASSWD_ATTACK);
    }
    assert_eq!(s(&rows(&run, "pol")[0]["w"]), PASSWD_ATTACK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_parameters_become_typed_literals_and_bad_values_are_refused_at_trigger() {
    let spec = "[pipeline]\nname = \"p\"\n\n[params]\nday = { type = \"date\", default = \"2024-02-28\" }\nn = 3\nratio = 0.5\nlabel = { type = \"string\", description = \"required\" }\n\n[[task]]\nid = \"t\"\nkind = \"sql\"\nengine = \"duckdb\"\nsql = \"SELECT {{ day }} + INTERVAL 1 DAY AS next_day, {{ n }} * 2 AS n2, 10 - {{ n }} AS diff, {{ ratio }} * 4 AS r, {{ label }} AS label, typeof({{ day }}) AS t\"\n";
    let fx = Fixture::new(spec, &[]);
    let run = fx.run(params(&[("label", "L'x"), ("n", "-5")])).await;
    assert_eq!(status(&run, "t"), TaskStatus::Success, "{}", error(&run, "t"));
    let out = &rows(&run, "t")[0];
    assert_eq!(out["n2"], -10);
    assert_eq!(out["diff"], 15, "x - -5 must not become a `--` comment");
    assert_eq!(out["r"], 2.0);
    assert_eq!(s(&out["label"]), "L'x");
    assert_eq!(s(&out["t"]), "DATE");
    assert!(s(&out["next_day"]).starts_with("2024-02-29"), "{out:?}");

    let p = std::sync::Arc::new(polder_engine::load(&fx.dir()).unwrap());
    for (pairs, expected) in [
        (vec![("label", "a"), ("n", "3; DROP TABLE x")], "parameter `n` of pipeline 'p' is a int: it must be an integer"),
        (vec![("label", "a"), ("day", "tomorrow")], "must be a date written YYYY-MM-DD"),
        (vec![("label", "a"), ("ratio", "NaN")], "must be a finite number"),
        (vec![], "parameter `label` of pipeline 'p' has no default"),
    ] {
        let opts = params(&pairs);
        let err =
            polder_engine::run_pipeline(fx.ws.clone(), p.clone(), opts, None, polder_engine::RunCancel::new()).await.unwrap_err();
        assert!(err.to_string().contains(expected), "{pairs:?}: {err}");
    }
    // Refused before any run was recorded.
    assert_eq!(fx.ws.store.list_runs(None, 100).unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shell_parameter_reaches_the_command_as_an_environment_variable_only() {
    let marker = std::env::temp_dir().join(format!("polder-pwned-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let spec = "[pipeline]\nname = \"p\"\n\n[params]\nx = \"hi\"\n\n[[task]]\nid = \"sh\"\nkind = \"shell\"\ncommand = \"echo bare={{ x }}; echo \\\"quoted={{ x }}\\\"; echo env=$POLDER_PARAM_X\"\n";
    let fx = Fixture::new(spec, &[]);
    let attack = format!("$(touch {}) `touch {}` ; touch {}", marker.display(), marker.display(), marker.display());
    let run = fx.run(params(&[("x", &attack)])).await;
    assert_eq!(status(&run, "sh"), TaskStatus::Success, "{}", error(&run, "sh"));
    assert!(!marker.exists(), "the parameter ran as a command");
    let log = fx.ws.store.task_runs(run.run_id).unwrap()[0].log_path.clone().unwrap();
    let log = std::fs::read_to_string(fx.ws.resolve(&log)).unwrap();
    for line in [format!("| bare={attack}"), format!("| quoted={attack}"), format!("| env={attack}")] {
        assert!(log.contains(&line), "missing {line:?} in\n{log}");
    }
}

#[test]
fn a_placeholder_inside_single_quotes_of_a_command_is_refused_with_a_hint() {
    let spec = "[pipeline]\nname = \"p\"\n\n[params]\nx = \"hi\"\n\n[[task]]\nid = \"sh\"\nkind = \"shell\"\ncommand = \"echo '{{ x }}'\"\n";
    let fx = Fixture::new(spec, &[]);
    let err = polder_engine::load(&fx.dir()).unwrap_err().to_string();
    assert!(err.contains("pipeline.toml:7:1: task 'sh': `{{ x }}` stands inside '…' quotes"), "{err}");
    assert!(err.contains("$POLDER_PARAM_"), "{err}");
}

#[test]
fn parameter_declarations_are_checked_with_their_location() {
    let spec = "[pipeline]\nname = \"p\"\n\n[params]\nn = { type = \"int\", default = \"many\" }\nd = { type = \"datetime\" }\nrun_date = 5\nok = { type = \"float\", default = 1, extra = 2 }\n";
    let fx = Fixture::new(spec, &[]);
    let err = polder_engine::load(&fx.dir()).unwrap_err().to_string();
    assert!(err.contains("pipeline.toml:5:31: default of parameter `n` (type int) must be an integer"), "{err}");
    assert!(err.contains("pipeline.toml:6:14: unknown type `datetime` in parameter `d`"), "{err}");
    assert!(
        err.contains(
            "pipeline.toml:7:12: default of parameter `run_date` (type date) must be a date written YYYY-MM-DD, got \"5\""
        ),
        "{err}"
    );
    assert!(err.contains("unknown field `extra` in parameter `ok`"), "{err}");
    // A scheduled pipeline cannot have a required parameter: nobody would give it a value.
    let fx =
        Fixture::new("[pipeline]\nname = \"p\"\nschedule = \"0 2 * * *\"\n\n[params]\nregion = { type = \"string\" }\n", &[]);
    let err = polder_engine::load(&fx.dir()).unwrap_err().to_string();
    assert!(err.contains("pipeline.toml:6:1: parameter `region` has no default, but the pipeline has a schedule"), "{err}");
}

#[test]
fn a_sql_file_outside_the_pipeline_folder_is_refused_without_quoting_it() {
    for file in ["../../../../../../../../etc/passwd", "/etc/passwd", "link/passwd"] {
        let spec = format!("[pipeline]\nname = \"p\"\n\n[[task]]\nid = \"t\"\nkind = \"sql\"\nfile = \"{file}\"\n");
        let fx = Fixture::new(&spec, &[]);
        std::os::unix::fs::symlink("/etc", fx.dir().join("link")).unwrap();
        let err = polder_engine::load(&fx.dir()).unwrap_err().to_string();
        assert!(err.contains(&format!("SQL file `{file}` resolves outside the pipeline folder")), "{err}");
        assert!(!err.contains("root"), "the error quotes the refused file: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_paths_stay_inside_the_pipeline_folder_unless_allowed() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.csv"), "a\n1\n").unwrap();
    let spec = "[pipeline]\nname = \"p\"\n\n[params]\ndir = \"data\"\n\n[[task]]\nid = \"src\"\nkind = \"source\"\nformat = \"csv\"\npath = \"{{ dir }}/*.csv\"\n";
    let fx = Fixture::new(spec, &[("data/a.csv", "a\n7\n")]);
    let ok = fx.run(RunOptions::default()).await;
    assert_eq!(rows(&ok, "src")[0]["a"], 7);
    // A parameter pointing elsewhere is refused before anything runs …
    let p = std::sync::Arc::new(polder_engine::load(&fx.dir()).unwrap());
    for dir in [outside.path().display().to_string(), "../..".to_string()] {
        let opts = params(&[("dir", &dir)]);
        let err =
            polder_engine::run_pipeline(fx.ws.clone(), p.clone(), opts, None, polder_engine::RunCancel::new()).await.unwrap_err();
        assert!(err.to_string().contains("resolves outside the pipeline folder"), "{err}");
    }
    // … and so is a symlink inside the folder that leads out of it.
    std::os::unix::fs::symlink(outside.path().join("secret.csv"), fx.dir().join("data/b.csv")).unwrap();
    let err = polder_engine::run_pipeline(fx.ws.clone(), p.clone(), RunOptions::default(), None, polder_engine::RunCancel::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`data/*.csv` resolves outside the pipeline folder"), "{err}");
    std::fs::remove_file(fx.dir().join("data/b.csv")).unwrap();

    // A sink may not write outside either.
    fx.write(
        "pipeline.toml",
        "[pipeline]\nname = \"p\"\n\n[[task]]\nid = \"t\"\nkind = \"sql\"\nsql = \"SELECT 1 AS a\"\n\n[[task]]\nid = \"out\"\nkind = \"sink\"\ninput = \"t\"\nformat = \"csv\"\npath = \"../escaped.csv\"\n",
    );
    let err = polder_engine::load(&fx.dir()).unwrap_err().to_string();
    assert!(err.contains("task 'out': `../escaped.csv` resolves outside the pipeline folder"), "{err}");
}

#[test]
fn the_loader_survives_mutated_pipeline_files_with_located_errors() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let seeds: Vec<(String, Vec<(String, String)>)> = ["medallion", "energy"]
        .iter()
        .map(|name| {
            let dir = root.join(name);
            let spec = std::fs::read_to_string(dir.join("pipeline.toml")).unwrap();
            let mut sql = Vec::new();
            for sub in ["", "models"] {
                if let Ok(rd) = std::fs::read_dir(dir.join(sub)) {
                    for e in rd.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "sql")) {
                        let rel = e.path().strip_prefix(&dir).unwrap().display().to_string();
                        sql.push((rel, std::fs::read_to_string(e.path()).unwrap()));
                    }
                }
            }
            (spec, sql)
        })
        .collect();
    // A fixed-seed xorshift, so a failure reproduces.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    const SNIPPETS: [&str; 14] =
        ["\"", "'", "[", "]]", "=", "\n", "{{ x }}", "[[task]]\n", "id = \"a\"", "{", "}", ",", "..", "kind = \"shell\""];
    let mut rejected = 0;
    for case in 0..400 {
        let (spec, sql) = &seeds[case % seeds.len()];
        let mut text: Vec<char> = spec.chars().collect();
        for _ in 0..1 + next(4) {
            let at = next(text.len() + 1);
            match next(4) {
                0 if at < text.len() => {
                    let len = 1 + next(20).min(text.len() - at - 1);
                    text.drain(at..at + len);
                }
                1 => text.splice(at..at, SNIPPETS[next(SNIPPETS.len())].chars()).for_each(drop),
                2 => {
                    // Duplicate a line somewhere else.
                    let lines: Vec<String> = text.iter().collect::<String>().lines().map(str::to_string).collect();
                    let line = &lines[next(lines.len())];
                    text.splice(at..at, format!("{line}\n").chars()).for_each(drop);
                }
                _ if at < text.len() => text[at] = SNIPPETS[next(SNIPPETS.len())].chars().next().unwrap(),
                _ => {}
            }
        }
        let mutated: String = text.into_iter().collect();
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("pipeline.toml"), &mutated).unwrap();
        for (rel, body) in sql {
            std::fs::create_dir_all(tmp.path().join(rel).parent().unwrap()).unwrap();
            std::fs::write(tmp.path().join(rel), body).unwrap();
        }
        let loaded = std::panic::catch_unwind(|| polder_engine::load(tmp.path()));
        let loaded = loaded.unwrap_or_else(|_| panic!("case {case}: the loader panicked on\n{mutated}"));
        if let Err(e) = loaded {
            rejected += 1;
            for problem in &e.problems {
                let loc =
                    problem.location.as_ref().unwrap_or_else(|| panic!("case {case}: no location for {problem:?}\n{mutated}"));
                assert!(loc.line >= 1 && loc.col >= 1, "case {case}: {problem:?}");
                assert!(loc.file.starts_with(tmp.path()), "case {case}: {problem:?}");
            }
        }
    }
    assert!(rejected > 200, "the mutations should break most files; {rejected} of 400 were rejected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tasks_own_sql_cannot_read_files_outside_the_allowed_folders() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.csv");
    std::fs::write(&secret, "word\nhidden\n").unwrap();
    let fx = Fixture::new("[pipeline]\nname = \"p\"\n", &[("data/a.csv", "word\nshown\n")]);
    let inside = fx.dir().join("data/a.csv");
    let duck = |id: &str, file: &std::path::Path| {
        format!(
            "\n[[task]]\nid = \"{id}\"\nkind = \"sql\"\nengine = \"duckdb\"\nsql = \"SELECT * FROM read_csv('{}')\"\n",
            file.display()
        )
    };
    fx.write(
        "pipeline.toml",
        &format!(
            "[pipeline]\nname = \"p\"\n{}{}\n[[task]]\nid = \"check\"\nkind = \"validate\"\ninput = \"duck_in\"\nchecks = [{{ expr = \"(SELECT count(*) FROM read_csv('{}')) = 0\" }}]\n",
            duck("duck_in", &inside),
            duck("duck_out", &secret),
            secret.display()
        ),
    );
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(s(&rows(&run, "duck_in")[0]["word"]), "shown");
    assert_eq!(status(&run, "duck_out"), TaskStatus::Failed);
    assert!(error(&run, "duck_out").contains("Permission Error"), "{}", error(&run, "duck_out"));
    assert_eq!(status(&run, "check"), TaskStatus::Failed);
    assert!(error(&run, "check").contains("Permission Error"), "{}", error(&run, "check"));

    // Polars SQL reads table-function files itself: the plan refuses them before anything runs.
    fx.write(
        "pipeline.toml",
        &format!(
            "[pipeline]\nname = \"p\"\n\n[[task]]\nid = \"pol\"\nkind = \"sql\"\nengine = \"polars\"\nsql = \"SELECT * FROM read_csv('{}')\"\n",
            secret.display()
        ),
    );
    let p = std::sync::Arc::new(polder_engine::load(&fx.dir()).unwrap());
    let err = polder_engine::run_pipeline(fx.ws.clone(), p, RunOptions::default(), None, polder_engine::RunCancel::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("task 'pol': read_csv(…): ") && err.contains("resolves outside the pipeline folder"), "{err}");
}
