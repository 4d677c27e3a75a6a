//! Artifact garbage collection keeps what caching, previews and recent runs need.

use polder_engine::gc::collect_garbage;
use polder_engine::{RunOptions, TaskStatus};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_removes_old_artifacts_but_keeps_the_cache_working() {
    let spec = "[pipeline]\nname = \"gc\"\n\n[[task]]\nid = \"a\"\nkind = \"sql\"\nsql = \"SELECT 1 AS x\"\n\n[[task]]\nid = \"b\"\nkind = \"sql\"\nsql = \"SELECT x + 1 AS y FROM a\"\n";
    let fx = Fixture::new(spec, &[]);
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(fx.run(RunOptions { force: true, ..Default::default() }).await);
    }
    let artifact = |r: usize, t: &str| runs[r].task(t).unwrap().artifact.clone().unwrap();
    let report = collect_garbage(&fx.ws, 1).unwrap();
    assert_eq!(report.files, 4, "two older runs × two tasks");
    assert!(report.bytes > 0);
    for t in ["a", "b"] {
        assert!(!artifact(0, t).exists() && !artifact(1, t).exists());
        assert!(artifact(2, t).exists());
    }
    // The store no longer points at removed files; the newest outputs still serve the cache.
    assert!(fx.ws.store.task_runs(runs[0].run_id).unwrap().iter().all(|t| t.artifact.is_none()));
    let again = fx.run(RunOptions::default()).await;
    assert!(again.tasks.iter().all(|t| t.status == TaskStatus::Cached), "{again:#?}");
    assert_eq!(i(&rows(&again, "b")[0]["y"]), 2);
    assert_eq!(collect_garbage(&fx.ws, 1).unwrap().files, 0, "nothing more to remove");
}
