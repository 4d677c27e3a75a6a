//! `polder deploy DIR --to URL`: bundle a pipeline folder and deploy it to a runner.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use flate2::write::GzEncoder;

use crate::remote::Remote;

/// Arguments of `polder deploy`.
#[derive(clap::Args)]
pub struct Args {
    /// The pipeline folder.
    dir: PathBuf,
    /// The runner's URL, e.g. http://127.0.0.1:7878.
    #[arg(long)]
    to: String,
    /// API token (default: POLDER_TOKEN).
    #[arg(long)]
    token: Option<String>,
}

/// Validates locally, bundles, uploads; prints the new version and the next scheduled run.
pub fn run(args: Args) -> Result<ExitCode> {
    let p = super::load_pipeline(&args.dir)?;
    let remote = Remote::new(&args.to, args.token)?;
    let bundle = bundle(&args.dir)?;
    let answer = remote.post("/api/deploy", "application/gzip", &bundle)?;
    println!(
        "deployed '{}' as version {} to {} ({} KiB bundle)",
        p.name,
        answer["version"],
        args.to,
        bundle.len().div_ceil(1024)
    );
    match answer["next_run"].as_str() {
        Some(next) => println!("schedule {}: next run {next}", answer["schedule"].as_str().unwrap_or("")),
        None => println!("no schedule: trigger it with `polder remote trigger {} --to {}`", p.name, args.to),
    }
    Ok(ExitCode::SUCCESS)
}

/// A tar.gz of the pipeline folder: every file except hidden ones and the `out/` folder (sink
/// outputs belong to where the pipeline runs).
pub fn bundle(dir: &Path) -> Result<Vec<u8>> {
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    tar.follow_symlinks(false);
    add_dir(&mut tar, dir, Path::new(""))?;
    let gz = tar.into_inner().context("cannot finish the bundle")?;
    Ok(gz.finish()?)
}

fn add_dir(tar: &mut tar::Builder<GzEncoder<Vec<u8>>>, base: &Path, rel: &Path) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(base.join(rel))
        .with_context(|| format!("cannot read {}", base.join(rel).display()))?
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let name_s = name.to_string_lossy();
        if name_s.starts_with('.') || (rel.as_os_str().is_empty() && name_s == "out") {
            continue;
        }
        let path = rel.join(&name);
        let ft = e.file_type()?;
        if ft.is_dir() {
            add_dir(tar, base, &path)?;
        } else if ft.is_file() {
            tar.append_path_with_name(base.join(&path), &path).with_context(|| format!("cannot bundle {}", path.display()))?;
        }
    }
    Ok(())
}
