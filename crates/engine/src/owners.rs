//! Which process owns a run or a temp file, and whether it still runs.
//!
//! A pid alone cannot say: a killed process stays in `/proc` as a zombie until its parent reaps
//! it, and pids are reused. So each process that opens a workspace holds an exclusive `flock` on
//! `.polder/owners/<token>.lock` for its lifetime, where the token (`<pid>-<nonce>`) is never
//! reused. The kernel drops the lock when the process's last descriptor closes, which happens at
//! exit, before the process becomes a zombie; another process probes it with a non-blocking lock.
//! Run records and temp file names carry the token.

use std::collections::HashMap;
use std::fs::{File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

/// The folder of owner locks inside a workspace's `.polder`.
pub const OWNERS_DIR: &str = "owners";

const LOCK_EXT: &str = "lock";
/// A lock file being created (renamed to `.lock` once locked, so no prober sees it unlocked).
const NEW_EXT: &str = "new";
/// The lock file of an owner found dead, kept a while so temps it left are still known dead.
const DEAD_EXT: &str = "dead";
/// How long a dead owner is remembered: past the sweeps that follow its discovery.
const DEAD_KEPT: Duration = Duration::from_secs(86_400);

/// This process's owner token, `<pid>-<nonce>`: the nonce (start time in nanoseconds, base 36)
/// tells this process from an earlier one that had the same pid.
pub fn token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        format!("{}-{}", std::process::id(), base36(nanos))
    })
}

fn base36(mut n: u128) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Locks this process holds, by folder; kept until exit (the kernel releases them then).
fn held() -> &'static Mutex<HashMap<PathBuf, File>> {
    static HELD: OnceLock<Mutex<HashMap<PathBuf, File>>> = OnceLock::new();
    HELD.get_or_init(Default::default)
}

/// Takes this process's lock in the owners folder `dir` (creating it), once per folder; it is
/// held until the process exits.
pub fn register(dir: &Path) -> io::Result<()> {
    let mut held = held().lock().unwrap_or_else(|p| p.into_inner());
    if held.contains_key(dir) {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let fresh = dir.join(format!("{}.{NEW_EXT}", token()));
    let file = File::create(&fresh)?;
    file.try_lock().map_err(|e| match e {
        TryLockError::Error(e) => e,
        TryLockError::WouldBlock => io::Error::other("our own new lock file is locked by another process"),
    })?;
    std::fs::rename(&fresh, dir.join(format!("{}.{LOCK_EXT}", token())))?;
    crate::fsutil::sync_dir(dir);
    held.insert(dir.to_path_buf(), file);
    Ok(())
}

/// What a probe of an owner's lock file found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lock {
    /// Someone holds it: the owner runs.
    Held,
    /// Nobody holds it: the owner exited (or was killed).
    Free,
    /// No lock file: the owner never registered in this folder, or its lock was cleaned away.
    Missing,
}

fn probe(dir: &Path, token: &str) -> Lock {
    if token == self::token() {
        return Lock::Held;
    }
    let Ok(file) = File::open(dir.join(format!("{token}.{LOCK_EXT}"))) else {
        return if dir.join(format!("{token}.{DEAD_EXT}")).exists() { Lock::Free } else { Lock::Missing };
    };
    // A shared probe: two probers never mistake each other for the owner.
    match file.try_lock_shared() {
        Ok(()) => Lock::Free,
        Err(TryLockError::WouldBlock) => Lock::Held,
        // Cannot tell (e.g. locks unsupported): assume alive, so nothing live is ever removed.
        Err(TryLockError::Error(_)) => Lock::Held,
    }
}

/// Whether the process that created a run still runs: its lock in `dir` is held. Runs recorded
/// before owners existed (no token) fall back to their pid.
pub fn run_owner_alive(dir: &Path, token: Option<&str>, pid: Option<u32>) -> bool {
    match token {
        // A run's owner registered in this folder before recording it, so a missing lock means
        // its owner died and was already cleaned up.
        Some(t) => probe(dir, t) == Lock::Held,
        None => pid.is_some_and(process_alive),
    }
}

/// Whether the writer of a temp file named like `.name.tmp-<pid>-<nonce>-<n>` (or the older
/// `.name.tmp-<pid>-<n>`) still runs, judged with the owner locks in `dir`; None when the name
/// does not name a writer (not ours to judge).
pub fn temp_owner_alive(dir: &Path, name: &str) -> Option<bool> {
    let (pid, nonce) = parse_temp_owner(name)?;
    Some(match nonce {
        Some(nonce) => match probe(dir, &format!("{pid}-{nonce}")) {
            Lock::Held => true,
            Lock::Free => false,
            // The writer never opened this workspace (or died and was cleaned): its pid decides.
            Lock::Missing => process_alive(pid),
        },
        None => process_alive(pid),
    })
}

/// (pid, nonce) from a temp file name; the nonce is absent in names written before owners.
fn parse_temp_owner(name: &str) -> Option<(u32, Option<&str>)> {
    let i = name.find(crate::fsutil::TMP_MARK)?;
    let rest = &name[i + crate::fsutil::TMP_MARK.len()..];
    let rest = rest.split('.').next().unwrap_or(rest);
    let parts: Vec<&str> = rest.split('-').collect();
    let pid = parts.first()?.parse::<u32>().ok()?;
    match parts.len() {
        1 | 2 => Some((pid, None)),
        3 if !parts[1].is_empty() && parts[1].bytes().all(|b| b.is_ascii_alphanumeric()) => Some((pid, Some(parts[1]))),
        _ => None,
    }
}

/// Marks the lock files of owners that exited as dead (`.dead`, remembered for a day, then
/// removed) and removes abandoned half-created ones; returns how many owners were found dead.
pub fn sweep_dead(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut found = 0;
    for e in entries.flatten() {
        let path = e.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else { continue };
        let age = || e.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok()).unwrap_or_default();
        match path.extension().and_then(|x| x.to_str()) {
            Some(LOCK_EXT) if probe(dir, stem) == Lock::Free => {
                let dead = path.with_extension(DEAD_EXT);
                if std::fs::rename(&path, &dead).is_ok() {
                    // The day counts from now, not from when the owner started.
                    let _ = File::options().write(true).open(&dead).and_then(|f| f.set_modified(SystemTime::now()));
                    found += 1;
                }
            }
            Some(DEAD_EXT) if age() > DEAD_KEPT => {
                let _ = std::fs::remove_file(&path);
            }
            // A creator that died between creating and renaming its lock; give live ones time.
            Some(NEW_EXT) if stem != token() && age() > Duration::from_secs(60) => {
                let _ = std::fs::remove_file(&path);
            }
            _ => {}
        }
    }
    found
}

/// Whether a process with this pid runs (Linux: it is in `/proc` and is not a zombie).
pub fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(target_os = "linux")]
    {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // The state follows the command name, which is in parentheses and may hold spaces.
            Ok(stat) => !matches!(stat.rsplit_once(')').and_then(|(_, s)| s.split_whitespace().next()), Some("Z" | "X")),
            Err(_) => false,
        }
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        // SAFETY: signal 0 only checks whether the process exists; nothing is sent.
        let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
        r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        // No cheap check: assume alive, so nothing live is ever removed.
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_alive(dir: &Path, name: &str) -> bool {
        temp_owner_alive(dir, name).expect("a temp name")
    }

    #[test]
    fn a_lock_held_elsewhere_means_alive_and_a_free_one_dead() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        register(dir).unwrap();
        register(dir).unwrap();
        assert!(run_owner_alive(dir, Some(token()), None));
        // Another "process": a lock held through another open file (flock locks belong to the
        // open file, so this process's probe conflicts with it as another process's would).
        let other = File::create(dir.join("1-abc.lock")).unwrap();
        other.lock().unwrap();
        assert!(run_owner_alive(dir, Some("1-abc"), Some(1)));
        assert!(is_alive(dir, ".x.tmp-1-abc-3.parquet"));
        assert_eq!(sweep_dead(dir), 0);
        other.unlock().unwrap();
        // Pid 1 runs, but the owner's lock is free: dead whatever the pid.
        assert!(!run_owner_alive(dir, Some("1-abc"), Some(1)));
        assert!(!is_alive(dir, ".x.tmp-1-abc-3.parquet"));
        assert_eq!(sweep_dead(dir), 1);
        assert!(run_owner_alive(dir, Some(token()), None), "our own lock survives the sweep");
        // Remembered dead after the sweep.
        assert!(!run_owner_alive(dir, Some("1-abc"), Some(1)));
        assert!(!is_alive(dir, ".x.tmp-1-abc-3.parquet"));
        assert_eq!(sweep_dead(dir), 0);
        // Unknown here: a run's owner is dead; a temp's writer falls back to its pid.
        std::fs::remove_file(dir.join("1-abc.dead")).unwrap();
        assert!(!run_owner_alive(dir, Some("1-abc"), Some(1)));
        assert!(is_alive(dir, ".x.tmp-1-abc-3.parquet"), "pid 1 runs");
        assert!(!is_alive(dir, ".x.tmp-999999999-abc-3"));
        assert!(is_alive(dir, ".x.tmp-1-0"), "an old-style name of a live pid");
        assert!(!is_alive(dir, ".x.tmp-999999999-0"));
        assert_eq!(temp_owner_alive(dir, ".x.tmp-nope"), None, "not a writer's name");
    }

    #[test]
    fn tokens_parse_back_from_temp_names() {
        let name = format!(".run-1.tmp-{}-7.parquet", token());
        let (pid, nonce) = parse_temp_owner(&name).unwrap();
        assert_eq!(format!("{pid}-{}", nonce.unwrap()), token());
        assert_eq!(parse_temp_owner(".gold.tmp-42-6"), Some((42, None)));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn zombies_and_missing_pids_are_dead() {
        assert!(process_alive(std::process::id()));
        assert!(!process_alive(999_999_999));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Not reaped yet: a zombie once it exits.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while process_alive(pid) {
            assert!(std::time::Instant::now() < deadline, "the exited child still counts as alive");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(std::path::Path::new(&format!("/proc/{pid}")).exists(), "a zombie is still in /proc");
        child.wait().unwrap();
    }
}
