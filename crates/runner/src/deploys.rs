//! Deployed pipeline versions: bundles (tar.gz of a pipeline folder) unpacked with strict checks
//! into immutable numbered folders; the active version is one small file, replaced atomically.
//! Runs load their pipeline when they start, so a redeploy never touches a run in flight.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;
use polder_engine::fsutil::{write_atomic, TMP_MARK};

/// Largest unpacked bundle.
pub const MAX_BUNDLE_BYTES: u64 = 512 * 1024 * 1024;
/// Most entries in a bundle.
pub const MAX_ENTRIES: usize = 10_000;

/// The deploys folder of a workspace state folder.
pub fn root(state_dir: &Path) -> PathBuf {
    state_dir.join("deploys")
}

/// Where a deployed pipeline's relative sink paths are written: one folder per pipeline that
/// outlives its versions (`<workspace>/.polder/data/<name>/`), so a redeploy keeps the outputs.
pub fn data_dir(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join("data").join(name)
}

/// Loads a deployed version, its relative sink paths pointed at the pipeline's data folder.
pub fn load_version(state_dir: &Path, dir: &Path) -> Result<polder_engine::Pipeline, polder_engine::SpecError> {
    let mut p = polder_engine::load(dir)?;
    p.data_dir = Some(data_dir(state_dir, &p.name));
    Ok(p)
}

/// Versions of `name`, ascending.
pub fn versions(state_dir: &Path, name: &str) -> Vec<u32> {
    let mut v: Vec<u32> = std::fs::read_dir(root(state_dir).join(name))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_string_lossy().strip_prefix('v').and_then(|n| n.parse().ok()))
        .collect();
    v.sort_unstable();
    v
}

/// The active version of `name`, if it was deployed.
pub fn active(state_dir: &Path, name: &str) -> Option<u32> {
    std::fs::read_to_string(root(state_dir).join(name).join("active")).ok()?.trim().parse().ok()
}

/// The folder of the active version of `name`.
pub fn active_dir(state_dir: &Path, name: &str) -> Option<PathBuf> {
    let v = active(state_dir, name)?;
    Some(root(state_dir).join(name).join(format!("v{v}")))
}

/// (name, active version, folder) of every deployed pipeline.
pub fn active_versions(state_dir: &Path) -> Vec<(String, u32, PathBuf)> {
    let mut out: Vec<(String, u32, PathBuf)> = std::fs::read_dir(root(state_dir))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let v = active(state_dir, &name)?;
            Some((name.clone(), v, root(state_dir).join(&name).join(format!("v{v}"))))
        })
        .collect();
    out.sort();
    out
}

/// Makes `version` the active one.
pub fn activate(state_dir: &Path, name: &str, version: u32) -> Result<(), String> {
    if !versions(state_dir, name).contains(&version) {
        return Err(format!("pipeline '{name}' has no deployed version {version}"));
    }
    write_atomic(&root(state_dir).join(name).join("active"), version.to_string().as_bytes()).map_err(|e| e.to_string())
}

/// Unpacks a bundle into `dest` (which must not exist), refusing absolute paths, `..`, links,
/// special files, more than [`MAX_ENTRIES`] entries and more than [`MAX_BUNDLE_BYTES`] of content.
pub fn unpack(bundle: &[u8], dest: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    let mut archive = tar::Archive::new(GzDecoder::new(bundle));
    let mut total = 0u64;
    let entries = archive.entries().map_err(|e| format!("not a valid tar.gz bundle: {e}"))?;
    for (i, entry) in entries.enumerate() {
        if i >= MAX_ENTRIES {
            return Err(format!("bundle has more than {MAX_ENTRIES} entries"));
        }
        let mut entry = entry.map_err(|e| format!("not a valid tar.gz bundle: {e}"))?;
        let path = entry.path().map_err(|e| format!("bad path in bundle: {e}"))?.into_owned();
        let shown = path.display().to_string();
        let mut rel = PathBuf::new();
        for c in path.components() {
            match c {
                Component::Normal(p) => rel.push(p),
                Component::CurDir => {}
                Component::ParentDir => return Err(format!("bundle entry `{shown}` leaves the pipeline folder (`..`)")),
                Component::RootDir | Component::Prefix(_) => return Err(format!("bundle entry `{shown}` is an absolute path")),
            }
        }
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            return Err(format!("bundle entry `{shown}` is a link; bundles may hold only files and folders"));
        }
        if rel.as_os_str().is_empty() {
            continue;
        }
        let target = dest.join(&rel);
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| format!("cannot create {}: {e}", target.display()))?;
            continue;
        }
        if !kind.is_file() {
            return Err(format!("bundle entry `{shown}` is not a regular file"));
        }
        let declared = entry.header().size().map_err(|e| format!("bad size of `{shown}`: {e}"))?;
        total = total.saturating_add(declared);
        if total > MAX_BUNDLE_BYTES {
            return Err(format!("bundle is larger than {} MiB unpacked", MAX_BUNDLE_BYTES >> 20));
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let mut out = std::fs::File::create(&target).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        // Never trust the header: copy at most what it declared, and fail if there is more.
        let copied =
            std::io::copy(&mut (&mut entry).take(declared + 1), &mut out).map_err(|e| format!("cannot unpack `{shown}`: {e}"))?;
        if copied != declared {
            return Err(format!("bundle entry `{shown}` is not the size its header says"));
        }
    }
    Ok(())
}

/// Unpacks and validates a bundle, stores it as the next version of its pipeline and activates
/// it. Returns (pipeline name, version). Callers serialize deploys.
pub fn deploy(workspace_root: &Path, state_dir: &Path, bundle: &[u8]) -> Result<(String, u32), String> {
    let base = root(state_dir);
    std::fs::create_dir_all(&base).map_err(|e| format!("cannot create {}: {e}", base.display()))?;
    // Named by its owner, so recovery removes it if this process dies mid-deploy.
    let incoming = base.join(format!(".incoming{TMP_MARK}{}-{}", polder_engine::owners::token(), polder_engine::store::now_ms()));
    let result = (|| {
        unpack(bundle, &incoming)?;
        let p = polder_engine::load(&incoming).map_err(|e| {
            format!("the bundle's pipeline is invalid:\n{}", e.to_string().replace(&incoming.display().to_string(), "<bundle>"))
        })?;
        missing_connections(workspace_root, &p)?;
        missing_datasets(workspace_root, &p)?;
        // Queries are planned over their inputs' schemas before the version can be activated.
        let scratch =
            base.join(format!(".plancheck{TMP_MARK}{}-{}", polder_engine::owners::token(), polder_engine::store::now_ms()));
        let paths = polder_engine::paths::PathPolicy::from_env().unwrap_or_default();
        let checked = polder_engine::plancheck::check(&p, &scratch, &paths, None);
        if !checked.problems.is_empty() {
            let list: Vec<String> = checked.problems.iter().map(|p| p.to_string()).collect();
            return Err(format!(
                "the bundle's pipeline has queries that would fail:\n{}",
                list.join("\n").replace(&incoming.display().to_string(), "<bundle>")
            ));
        }
        python_environment(&p, &incoming)?;
        let dir = base.join(&p.name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let version = versions(state_dir, &p.name).last().copied().unwrap_or(0) + 1;
        let vdir = dir.join(format!("v{version}"));
        polder_engine::fsutil::publish(&incoming, &vdir).map_err(|e| format!("cannot store version {version}: {e}"))?;
        let meta = serde_json::json!({ "version": version, "deployed_at_ms": polder_engine::store::now_ms() });
        write_atomic(&dir.join(format!("v{version}.json")), meta.to_string().as_bytes()).map_err(|e| e.to_string())?;
        activate(state_dir, &p.name, version)?;
        Ok((p.name, version))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&incoming);
    }
    result
}

/// Builds the Python environment a pipeline with Python tasks needs, now rather than at its
/// first run: a deploy whose requirements do not install is refused with the installer's words.
fn python_environment(p: &polder_engine::Pipeline, dir: &Path) -> Result<(), String> {
    if !p.tasks.iter().any(|t| matches!(t.kind, polder_engine::spec::TaskKind::Python(_))) {
        return Ok(());
    }
    let log = polder_engine::tasks::TaskLog::discard();
    polder_engine::python::env::ensure(dir, &log, &polder_engine::tasks::CancelFlag::new())
        .map(|_| ())
        .map_err(|e| format!("the bundle's Python environment could not be built: {e}"))
}

/// Refuses a pipeline whose connections this runner does not declare (deploys carry no
/// connections and no secrets: each runner defines its own), listing what to define.
pub fn missing_connections(workspace_root: &Path, p: &polder_engine::Pipeline) -> Result<(), String> {
    let used = p.connections_used();
    if used.is_empty() {
        return Ok(());
    }
    let declared = polder_engine::connections::Connections::load(workspace_root)
        .map_err(|e| format!("this runner's connections file is invalid:\n{e}"))?;
    let missing: Vec<String> = used
        .iter()
        .filter(|(name, _)| !declared.by_name.contains_key(name))
        .map(|(name, kind)| format!("  {name} (type {kind})"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "pipeline '{}' uses connections this runner does not define; define them in {} on the runner (or in its Connections view), then deploy again:\n{}",
        p.name,
        polder_engine::connections::file(workspace_root).display(),
        missing.join("\n")
    ))
}

/// Refuses a pipeline that reads (or is triggered by) datasets this runner does not declare:
/// datasets belong to the runner that takes their rows, so deploys do not carry them.
pub fn missing_datasets(workspace_root: &Path, p: &polder_engine::Pipeline) -> Result<(), String> {
    let mut used: std::collections::BTreeSet<&str> = p.on_dataset.iter().map(String::as_str).collect();
    for t in &p.tasks {
        if let polder_engine::spec::TaskKind::Source(s) = &t.kind {
            used.extend(s.dataset.as_deref());
        }
    }
    let missing: Vec<&str> =
        used.into_iter().filter(|d| !polder_engine::ingest::declaration_path(workspace_root, d).is_file()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "pipeline '{}' uses datasets this runner does not declare: {}; add ingest/<name>.toml for each on the runner, then deploy again",
        p.name,
        missing.join(", ")
    ))
}

/// A tar.gz of a pipeline folder, as `polder deploy` and the deploy route send it: every file but
/// hidden ones and the top-level `out/` folder (sink outputs belong where the pipeline runs), and
/// the top-level `data/` folder of a pipeline whose sources all read object storage (there it
/// holds local copies for development; the runner reads the bucket).
pub fn bundle(dir: &Path) -> Result<Vec<u8>, String> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    tar.follow_symlinks(false);
    let skip_data = polder_engine::load(dir).is_ok_and(|p| reads_only_object_storage(&p));
    add_dir(&mut tar, dir, Path::new(""), skip_data)?;
    let gz = tar.into_inner().map_err(|e| format!("cannot finish the bundle: {e}"))?;
    gz.finish().map_err(|e| format!("cannot finish the bundle: {e}"))
}

/// Whether every source reads `s3://` and no query or command names a `data/` file.
fn reads_only_object_storage(p: &polder_engine::Pipeline) -> bool {
    use polder_engine::spec::TaskKind;
    let mut sources = p.tasks.iter().filter_map(|t| match &t.kind {
        TaskKind::Source(s) => Some(s),
        _ => None,
    });
    let names_data = p.tasks.iter().any(|t| match &t.kind {
        TaskKind::Sql(s) => s.sql.contains("data/"),
        TaskKind::Shell(s) => s.command.contains("data/"),
        TaskKind::Python(py) => py.code.contains("data/"),
        _ => false,
    });
    let mut any = false;
    let all_remote = sources.all(|s| {
        any = true;
        polder_engine::s3::is_s3(&s.path)
    });
    any && all_remote && !names_data
}

fn add_dir(
    tar: &mut tar::Builder<flate2::write::GzEncoder<Vec<u8>>>,
    base: &Path,
    rel: &Path,
    skip_data: bool,
) -> Result<(), String> {
    let here = base.join(rel);
    let mut entries: Vec<_> =
        std::fs::read_dir(&here).map_err(|e| format!("cannot read {}: {e}", here.display()))?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let name_s = name.to_string_lossy();
        let top = rel.as_os_str().is_empty();
        if name_s.starts_with('.') || (top && name_s == "out") || (top && skip_data && name_s == "data") {
            continue;
        }
        let path = rel.join(&name);
        let ft = e.file_type().map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if ft.is_dir() {
            add_dir(tar, base, &path, skip_data)?;
        } else if ft.is_file() {
            tar.append_path_with_name(base.join(&path), &path).map_err(|e| format!("cannot bundle {}: {e}", path.display()))?;
        }
    }
    Ok(())
}
