//! The virtual environments Python tasks run in: one per pipeline requirements (a
//! `requirements.txt` or a `pyproject.toml`'s `[project] dependencies` in the pipeline folder,
//! with `polars` added when not listed), built once with uv when present, else `python -m venv`
//! and pip, and kept in a per-user cache keyed by the requirements' content and the interpreter.
//! A build holds a lock, so two tasks needing one environment build it once; an environment
//! counts only once its `ready` marker is written, so a build cut off is redone, never used.
//! A task using an environment holds the same lock shared and marks the use, so
//! [`collect_unused`] (`polder gc`) removes only environments nobody used for a while.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use crate::tasks::shell::{describe_exit, spawn_group, supervise, Supervised};
use crate::tasks::{CancelFlag, TaskError, TaskLog};

/// Bumped when the layout of an environment changes; old ones are then rebuilt.
const FORMAT: &str = "polder-python-env-1";

/// The marker written last into a finished environment.
const READY: &str = "polder-ready.json";

/// Touched at every use of an environment: its age is how long the environment went unused.
const USED: &str = "polder-used";

/// A built environment.
#[derive(Debug, Clone)]
pub struct Env {
    /// Its folder.
    pub dir: PathBuf,
    /// Its interpreter.
    pub python: PathBuf,
    /// The environment's lock, held shared while this value lives: collection leaves it alone.
    _in_use: Option<Arc<std::fs::File>>,
}

/// What a pipeline asks to have installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirements {
    /// No file: Polars alone.
    Default,
    /// `requirements.txt` (installed with `-r`, so pip's own syntax works).
    File(PathBuf, String),
    /// `pyproject.toml`'s `[project] dependencies`.
    Listed(PathBuf, Vec<String>),
}

impl Requirements {
    /// The file they came from.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Requirements::Default => None,
            Requirements::File(p, _) | Requirements::Listed(p, _) => Some(p),
        }
    }

    fn mentions_polars(&self) -> bool {
        let is_polars = |line: &str| {
            let name: String = line
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect::<String>()
                .to_ascii_lowercase();
            name == "polars" || name.starts_with("polars-") && !name.starts_with("polars-ds")
        };
        match self {
            Requirements::Default => false,
            Requirements::File(_, text) => text.lines().any(is_polars),
            Requirements::Listed(_, deps) => deps.iter().any(|d| is_polars(d)),
        }
    }
}

/// The requirements of the pipeline in `dir`.
pub fn requirements(dir: &Path) -> Result<Requirements, String> {
    let txt = dir.join("requirements.txt");
    if txt.is_file() {
        let text = std::fs::read_to_string(&txt).map_err(|e| format!("cannot read {}: {e}", txt.display()))?;
        return Ok(Requirements::File(txt, text));
    }
    let toml = dir.join("pyproject.toml");
    if toml.is_file() {
        let text = std::fs::read_to_string(&toml).map_err(|e| format!("cannot read {}: {e}", toml.display()))?;
        let doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{}: {e}", toml.display()))?;
        let deps = doc.get("project").and_then(|p| p.get("dependencies"));
        let list = match deps {
            None => Vec::new(),
            Some(item) => item
                .as_array()
                .ok_or_else(|| format!("{}: [project] dependencies must be a list of strings", toml.display()))?
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("{}: [project] dependencies must be a list of strings", toml.display()))
                })
                .collect::<Result<_, _>>()?,
        };
        return Ok(Requirements::Listed(toml, list));
    }
    Ok(Requirements::Default)
}

/// The files a Python task's result may depend on besides its own code: the `.py` files of the
/// pipeline folder and its sub-folders (modules it may import) and the requirements file.
pub fn watched_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "__pycache__" || name == "data" {
                continue;
            }
            match entry.file_type() {
                Ok(t) if t.is_dir() && depth < 3 => walk(&path, depth + 1, out),
                Ok(t) if t.is_file() && name.ends_with(".py") => out.push(path),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, 0, &mut out);
    out.extend(["requirements.txt", "pyproject.toml"].iter().map(|f| dir.join(f)).filter(|p| p.is_file()));
    out.sort();
    out
}

/// Where environments are kept: `POLDER_PYTHON_ENVS`, else the user's cache folder.
pub fn root() -> PathBuf {
    if let Some(dir) = std::env::var_os("POLDER_PYTHON_ENVS") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("polder").join("python-envs")
}

/// The interpreter environments are made from: `POLDER_PYTHON`, else `python3`.
pub fn interpreter() -> String {
    std::env::var("POLDER_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// The interpreter's full version and path (asked once per process).
fn interpreter_identity(python: &str) -> Result<String, String> {
    static SEEN: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Default::default);
    if let Some(id) = SEEN.lock().unwrap_or_else(|p| p.into_inner()).get(python) {
        return Ok(id.clone());
    }
    let out =
        Command::new(python).args(["-c", "import sys; print(sys.executable); print(sys.version)"]).output().map_err(|e| {
            format!("Python tasks need Python 3: cannot run `{python}` ({e}); install Python 3 or set POLDER_PYTHON to its path")
        })?;
    if !out.status.success() {
        return Err(format!("`{python}` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    SEEN.lock().unwrap_or_else(|p| p.into_inner()).insert(python.to_string(), id.clone());
    Ok(id)
}

/// The key of the environment `reqs` need with `python`.
pub fn key(python: &str, reqs: &Requirements) -> Result<String, String> {
    let mut h = blake3::Hasher::new();
    h.update(FORMAT.as_bytes());
    h.update(b"\0");
    h.update(interpreter_identity(python)?.as_bytes());
    match reqs {
        Requirements::Default => h.update(b"\0default"),
        Requirements::File(_, text) => h.update(b"\0txt\0").update(text.as_bytes()),
        Requirements::Listed(_, deps) => h.update(b"\0listed\0").update(deps.join("\n").as_bytes()),
    };
    Ok(h.finalize().to_hex()[..24].to_string())
}

/// The environment for the pipeline in `dir`, built first if needed (its progress in `log`).
pub fn ensure(dir: &Path, log: &TaskLog, cancel: &CancelFlag) -> Result<Env, TaskError> {
    let reqs = requirements(dir).map_err(TaskError::Data)?;
    let python = interpreter();
    let key = key(&python, &reqs).map_err(TaskError::Data)?;
    let root = root();
    let env_dir = root.join(&key);
    let lock_path = root.join(format!("{key}.lock"));
    let env = Env { python: env_dir.join("bin").join("python"), dir: env_dir.clone(), _in_use: None };
    if env_dir.join(READY).is_file() {
        if let Some(held) = use_lock(&lock_path) {
            // Collection may have removed it between the check and the lock.
            if env_dir.join(READY).is_file() {
                return Ok(in_use(env, held));
            }
        }
    }
    std::fs::create_dir_all(&root).map_err(|e| TaskError::data(format!("cannot create {}", root.display()), e))?;
    let build_lock = lock(&lock_path, log, cancel)?;
    // Another process may have built it while this one waited.
    if env_dir.join(READY).is_file() {
        return Ok(in_use(env, downgrade(build_lock)));
    }
    let started = std::time::Instant::now();
    let what = reqs.file().map_or("Polars".to_string(), |f| f.display().to_string());
    log.line(format!("building the Python environment for {what} in {} (once; later runs reuse it)", env_dir.display()));
    if env_dir.exists() {
        // A build that was cut off.
        std::fs::remove_dir_all(&env_dir).map_err(|e| TaskError::data(format!("cannot remove {}", env_dir.display()), e))?;
    }
    build(&python, &reqs, &env, dir, log, cancel)?;
    let marker = serde_json::json!({
        "python": interpreter_identity(&python).unwrap_or_default(),
        "requirements": reqs.file().map(|f| f.display().to_string()),
        "built_secs": started.elapsed().as_secs_f64(),
    });
    crate::fsutil::write_atomic(&env_dir.join(READY), marker.to_string().as_bytes())
        .map_err(|e| TaskError::data(format!("cannot finish {}", env_dir.display()), e))?;
    log.line(format!("Python environment ready in {:.1} s", started.elapsed().as_secs_f64()));
    Ok(in_use(env, downgrade(build_lock)))
}

/// `env` holding its lock shared (`held`), its use marked now.
fn in_use(mut env: Env, held: std::fs::File) -> Env {
    // Best effort: a cache that cannot be written still runs tasks; it only looks unused longer.
    if let Ok(marker) = std::fs::File::create(env.dir.join(USED)) {
        let _ = marker.set_modified(SystemTime::now());
    }
    env._in_use = Some(Arc::new(held));
    env
}

/// The environment's lock taken shared without waiting (None: a build or a collection holds it).
fn use_lock(path: &Path) -> Option<std::fs::File> {
    let file = open_lock_file(path).ok()?;
    flock(&file, libc::LOCK_SH | libc::LOCK_NB).then_some(file)
}

/// The build's exclusive lock turned shared, for the task that goes on to use the environment.
fn downgrade(file: std::fs::File) -> std::fs::File {
    // flock converts in place; if it fails the lock stays exclusive, which protects as well.
    flock(&file, libc::LOCK_SH);
    file
}

/// An error that names the path it happened on.
fn at(path: &Path) -> impl Fn(std::io::Error) -> std::io::Error + '_ {
    move |e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// The lock file at `path`, created if missing (its content is never used).
fn open_lock_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path)
}

/// flock(2) on `file`; whether it was granted.
fn flock(file: &std::fs::File, op: libc::c_int) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: flock(2) on a descriptor `file` owns; no memory is passed.
    unsafe { libc::flock(file.as_raw_fd(), op) == 0 }
}

/// What [`collect_unused`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    /// The removed environments' folder names.
    pub envs: Vec<String>,
    /// Bytes freed.
    pub bytes: u64,
}

/// Removes the environments under `root` that no task used for `idle` (judged by their last
/// use, else by when they were built), and builds cut off that long ago. An environment a task
/// is using or a process is building holds its lock and is kept. An error names the path it
/// happened on.
pub fn collect_unused(root: &Path, idle: Duration) -> std::io::Result<Collected> {
    let mut collected = Collected::default();
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(collected),
        Err(e) => return Err(at(root)(e)),
    };
    let now = SystemTime::now();
    for entry in entries {
        let entry = entry.map_err(at(root))?;
        let dir = entry.path();
        if !entry.file_type().map_err(at(&dir))?.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let last = [USED, READY]
            .iter()
            .find_map(|m| dir.join(m).metadata().and_then(|m| m.modified()).ok())
            .or_else(|| entry.metadata().and_then(|m| m.modified()).ok());
        let idle_for = last.and_then(|t| now.duration_since(t).ok()).unwrap_or_default();
        if idle_for < idle {
            continue;
        }
        let lock_path = root.join(format!("{name}.lock"));
        let file = open_lock_file(&lock_path).map_err(at(&lock_path))?;
        if !flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
            continue;
        }
        // The lock file stays: a process waiting on it must not end up building beside one that
        // opened a new file under the same name.
        collected.bytes += size_of_tree(&dir);
        std::fs::remove_dir_all(&dir).map_err(at(&dir))?;
        collected.envs.push(name);
    }
    collected.envs.sort();
    Ok(collected)
}

/// Bytes of the files below `dir` (symbolic links not followed).
fn size_of_tree(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => size_of_tree(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// Creates the environment and installs the requirements (and Polars) into it.
fn build(python: &str, reqs: &Requirements, env: &Env, dir: &Path, log: &TaskLog, cancel: &CancelFlag) -> Result<(), TaskError> {
    let uv = which("uv");
    let mut install: Vec<String> = Vec::new();
    match reqs {
        Requirements::Default => {}
        Requirements::File(path, _) => {
            install.push("-r".into());
            install.push(path.to_string_lossy().into_owned());
        }
        Requirements::Listed(_, deps) => install.extend(deps.iter().cloned()),
    }
    if !reqs.mentions_polars() {
        install.push("polars".into());
    }
    let env_path = env.dir.to_string_lossy().into_owned();
    let steps: Vec<(String, Command)> = match &uv {
        Some(uv) => {
            let mut venv = Command::new(uv);
            venv.args(["venv", "--python", python, &env_path]);
            let mut pip = Command::new(uv);
            pip.args(["pip", "install", "--python"]).arg(&env.python).args(&install);
            vec![("uv venv".into(), venv), ("uv pip install".into(), pip)]
        }
        None => {
            let mut venv = Command::new(python);
            venv.args(["-m", "venv", &env_path]);
            let mut pip = Command::new(&env.python);
            pip.args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--progress-bar", "off"])
                .args(&install);
            vec![("python -m venv".into(), venv), ("pip install".into(), pip)]
        }
    };
    for (what, mut command) in steps {
        command.current_dir(dir).env("PYTHONDONTWRITEBYTECODE", "1");
        log.line(format!("$ {what} {}", if what.contains("install") { install.join(" ") } else { env_path.clone() }));
        let child = spawn_group(&mut command).map_err(|e| TaskError::data(format!("cannot start {what}"), e))?;
        let Supervised { status, tail, .. } = supervise(child, log, cancel, None)?;
        cancel.check()?;
        if !status.success() {
            let _ = std::fs::remove_dir_all(&env.dir);
            let offline = if what.contains("install") {
                "; without network access, point the installer at a folder of wheels (PIP_FIND_LINKS=/path/to/wheels PIP_NO_INDEX=1, or UV_FIND_LINKS with uv)"
            } else {
                ""
            };
            return Err(TaskError::Data(format!(
                "the Python environment could not be built: {what} {}{offline}; its last output:\n{}",
                describe_exit(status),
                tail.join("\n")
            )));
        }
    }
    Ok(())
}

/// An exclusive lock on `path`, held until the file is dropped; waits (cancellably) for another holder.
fn lock(path: &Path, log: &TaskLog, cancel: &CancelFlag) -> Result<std::fs::File, TaskError> {
    let file = open_lock_file(path).map_err(|e| TaskError::data(format!("cannot open {}", path.display()), e))?;
    let mut said = false;
    loop {
        if flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
            return Ok(file);
        }
        if !said {
            log.line("waiting for another build of this Python environment");
            said = true;
        }
        cancel.check()?;
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The path of `program` on PATH.
fn which(program: &str) -> Option<PathBuf> {
    if program == "uv" && std::env::var("POLDER_NO_UV").is_ok_and(|v| v == "1") {
        return None;
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).map(|d| d.join(program)).find(|p| {
            use std::os::unix::fs::PermissionsExt;
            p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sets the modification time of `path` (a file or a folder) to `ago` before now.
    fn age(path: &Path, ago: Duration) {
        std::fs::File::open(path).unwrap().set_modified(SystemTime::now() - ago).unwrap();
    }

    #[test]
    fn collection_removes_environments_unused_for_a_while_and_keeps_those_in_use() {
        let root = tempfile::tempdir().unwrap();
        let day = Duration::from_secs(86_400);
        let make = |name: &str, built: Option<Duration>, used: Option<Duration>| {
            let dir = root.path().join(name);
            std::fs::create_dir_all(dir.join("lib")).unwrap();
            std::fs::write(dir.join("lib").join("module.so"), vec![7u8; 1000]).unwrap();
            if let Some(ago) = built {
                std::fs::write(dir.join(READY), "{}").unwrap();
                age(&dir.join(READY), ago);
            }
            if let Some(ago) = used {
                std::fs::write(dir.join(USED), "").unwrap();
                age(&dir.join(USED), ago);
            }
            dir
        };
        make("unused", Some(40 * day), Some(35 * day));
        make("built_long_ago_used_lately", Some(90 * day), Some(day));
        make("built_lately", Some(day), None);
        make("never_used", Some(31 * day), None);
        let cut_off = make("cut_off", None, None);
        age(&cut_off, 40 * day);
        // A task that started using it long ago and still runs: its shared lock keeps it.
        let running = make("running", Some(40 * day), Some(40 * day));
        let held = use_lock(&root.path().join("running.lock")).expect("a free lock");
        // A task starting now marks its use.
        let reused = make("reused", Some(50 * day), Some(50 * day));
        let env = in_use(
            Env { python: reused.join("bin").join("python"), dir: reused.clone(), _in_use: None },
            use_lock(&root.path().join("reused.lock")).unwrap(),
        );

        let collected = collect_unused(root.path(), 30 * day).unwrap();
        assert_eq!(collected.envs, ["cut_off", "never_used", "unused"]);
        assert_eq!(collected.bytes, 3 * 1000 + 2 * 2, "the files of the three folders");
        for gone in ["cut_off", "never_used", "unused"] {
            assert!(!root.path().join(gone).exists(), "{gone}");
        }
        for kept in ["built_long_ago_used_lately", "built_lately", "running", "reused"] {
            assert!(root.path().join(kept).join("lib").join("module.so").is_file(), "{kept}");
        }
        // Once their tasks end and time passes, they go too.
        drop(held);
        drop(env);
        age(&reused.join(USED), 31 * day);
        assert_eq!(collect_unused(root.path(), 30 * day).unwrap().envs, ["reused", "running"]);
        assert!(!running.exists() && !reused.exists());
        assert_eq!(collect_unused(&root.path().join("absent"), day).unwrap(), Collected::default());
    }

    #[test]
    fn requirements_come_from_the_pipeline_folder_and_polars_is_added_unless_listed() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(requirements(dir.path()).unwrap(), Requirements::Default);
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\ndependencies = [\"numpy>=1\", \"Polars==1.2\"]\n",
        )
        .unwrap();
        let r = requirements(dir.path()).unwrap();
        assert!(matches!(&r, Requirements::Listed(_, d) if d.len() == 2));
        assert!(r.mentions_polars());
        std::fs::write(dir.path().join("requirements.txt"), "# tools\nnumpy\npolars-ds\n").unwrap();
        let r = requirements(dir.path()).unwrap();
        assert!(matches!(&r, Requirements::File(..)), "requirements.txt wins over pyproject.toml");
        assert!(!r.mentions_polars(), "polars-ds is not Polars");
        std::fs::write(dir.path().join("pyproject.toml"), "[project]\ndependencies = \"numpy\"\n").unwrap();
        std::fs::remove_file(dir.path().join("requirements.txt")).unwrap();
        assert!(requirements(dir.path()).unwrap_err().contains("list of strings"));
    }
}
