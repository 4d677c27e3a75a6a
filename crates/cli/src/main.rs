//! `polder`: run, inspect and scaffold Polder pipelines from the command line.

mod commands;
mod progress;
mod remote;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Polder: pipelines on Polars and DuckDB for data that fits one strong machine.
#[derive(Parser)]
#[command(name = "polder", version, about)]
struct Cli {
    /// The workspace folder: its `.polder/` keeps run metadata, artifacts and logs, and a
    /// pipeline given by name is looked up in it first.
    #[arg(long, global = true, env = "POLDER_WORKSPACE", default_value = ".")]
    workspace: PathBuf,
    /// More log output (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new pipeline folder with a runnable example.
    Init(commands::init::Args),
    /// Check a pipeline's files and print its tasks and dependencies.
    Validate(commands::validate::Args),
    /// Run a pipeline (unchanged tasks reuse their last output).
    Run(commands::run::Args),
    /// List recent runs.
    Runs(commands::runs::Args),
    /// Show one run and its tasks.
    Show(commands::show::Args),
    /// Print a task's log.
    Logs(commands::logs::Args),
    /// Print the head of a task's latest output.
    Preview(commands::preview::Args),
    /// Generate the demo data if missing, run examples/medallion and print the gold table.
    Demo(commands::demo::Args),
    /// Generate an example's data set.
    Gen(commands::gen::Args),
    /// Remove artifacts no run needs any more (keeps recent runs and cached outputs).
    Gc(commands::gc::Args),
    /// Serve the workspace over the runner HTTP API.
    Serve(commands::serve::Args),
    /// Bundle a pipeline folder and deploy it to a runner as a new version.
    Deploy(commands::deploy::Args),
    /// Work with a runner: runs, trigger, logs, backfill.
    Remote(commands::remote::Args),
    /// Run a pipeline locally once per schedule interval in a date range.
    Backfill(commands::backfill::Args),
    /// The workspace's named connections (connections.toml).
    Connection(commands::connection::Args),
    /// The workspace's encrypted secrets, for `${secret:NAME}` references.
    Secret(commands::secret::Args),
}

/// mimalloc: with glibc's malloc, large Polars work spends a fifth of its time in page faults.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

// Linked for its unprefixed `malloc`/`free`, which replace glibc's for the C and C++ code of this
// process (DuckDB): DuckDB's own builds use jemalloc, and with glibc's allocator its hash tables
// kept getting fresh pages the kernel had to zero (5-8% of a 20M-row view run, bench/README.md).
use tikv_jemalloc_sys as _;

/// jemalloc's options, read before `main` ([`polder_engine::memory::JEMALLOC_CONF`]).
#[export_name = "malloc_conf"]
pub static MALLOC_CONF: &[u8; 37] = polder_engine::memory::JEMALLOC_CONF;

fn main() -> ExitCode {
    // A task child process (see polder_engine::isolate) runs its task and exits here; otherwise
    // this records that tasks may run in children of this executable (`run`, `serve`, previews).
    polder_engine::isolate::child_main_if_requested();
    // Polars reads its table format from the environment; show whole previews. Set before any
    // thread starts, so no other thread can read the environment concurrently.
    for (k, v) in [("POLARS_FMT_MAX_COLS", "30"), ("POLARS_FMT_STR_LEN", "40"), ("POLARS_TABLE_WIDTH", "200")] {
        if std::env::var_os(k).is_none() {
            std::env::set_var(k, v);
        }
    }
    let cli = Cli::parse();
    // Like other Unix tools, end quietly when the reader of our output goes away (`| head`); not
    // the server, which must outlive a closed stdout or a client that hung up mid-response (the
    // e2e runner died of SIGPIPE once).
    if !matches!(cli.command, Command::Serve(_)) {
        // SAFETY: resetting a signal disposition to its default before any thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("POLDER_LOG").unwrap_or_else(|_| level.into()))
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Init(a) => commands::init::run(a),
        Command::Validate(a) => commands::validate::run(&cli.workspace, a),
        Command::Run(a) => commands::run::run(&cli.workspace, a),
        Command::Runs(a) => commands::runs::run(&cli.workspace, a),
        Command::Show(a) => commands::show::run(&cli.workspace, a),
        Command::Logs(a) => commands::logs::run(&cli.workspace, a),
        Command::Preview(a) => commands::preview::run(&cli.workspace, a),
        Command::Demo(a) => commands::demo::run(&cli.workspace, a),
        Command::Gen(a) => commands::gen::run(a),
        Command::Gc(a) => commands::gc::run(&cli.workspace, a),
        Command::Serve(a) => commands::serve::run(&cli.workspace, a),
        Command::Deploy(a) => commands::deploy::run(&cli.workspace, a),
        Command::Remote(a) => commands::remote::run(a),
        Command::Backfill(a) => commands::backfill::run(&cli.workspace, a),
        Command::Connection(a) => commands::connection::run(&cli.workspace, a),
        Command::Secret(a) => commands::secret::run(&cli.workspace, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::{c_char, c_int, c_void};

    extern "C" {
        /// jemalloc's control interface: resolves only if jemalloc is linked.
        fn mallctl(name: *const c_char, oldp: *mut c_void, oldlenp: *mut usize, newp: *mut c_void, newlen: usize) -> c_int;
    }

    /// `malloc` (what DuckDB's C++ calls) is jemalloc's, in this executable, not glibc's, and runs
    /// with Polder's options.
    #[test]
    fn c_malloc_is_jemalloc_with_polders_options() {
        let origin = polder_engine::memory::malloc_origin().expect("malloc has an origin");
        assert!(!origin.contains("libc.so"), "malloc comes from {origin}");
        let mut decay: isize = 0;
        let mut len = std::mem::size_of::<isize>();
        // SAFETY: `opt.dirty_decay_ms` is an ssize_t; `decay` and `len` describe it.
        let rc = unsafe {
            mallctl(c"opt.dirty_decay_ms".as_ptr(), (&mut decay as *mut isize).cast(), &mut len, std::ptr::null_mut(), 0)
        };
        assert_eq!((rc, decay), (0, 1000));
    }
}
