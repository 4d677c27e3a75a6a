//! Live progress of a run: one line per task (state, rows, duration) on a terminal, plain event
//! lines otherwise (CI logs, pipes).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use polder_engine::{RunEvent, TaskStatus};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::table;

/// Consumes run events until the channel closes.
pub async fn render(mut rx: UnboundedReceiver<RunEvent>) {
    let live = std::io::stderr().is_terminal();
    let multi = MultiProgress::with_draw_target(if live { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() });
    let running = ProgressStyle::with_template("{spinner:.cyan} {prefix:<28} {msg} {elapsed:>5}").expect("valid template");
    let done = ProgressStyle::with_template("{prefix:<30} {msg}").expect("valid template");
    let mut bars: HashMap<String, ProgressBar> = HashMap::new();
    let mut width = 20;
    while let Some(ev) = rx.recv().await {
        match ev {
            RunEvent::RunStarted { run_id, tasks } => {
                width = tasks.iter().map(|t| t.len()).max().unwrap_or(10).max(10);
                if live {
                    for t in &tasks {
                        let bar = multi.add(ProgressBar::new_spinner());
                        bar.set_style(done.clone());
                        bar.set_prefix(format!("  {t}"));
                        bar.set_message("pending");
                        bars.insert(t.clone(), bar);
                    }
                } else {
                    eprintln!("run {run_id}: {} tasks", tasks.len());
                }
            }
            RunEvent::TaskStarted { task, attempt } => {
                let note = if attempt > 1 { format!("running (attempt {attempt})") } else { "running".to_string() };
                match bars.get(&task) {
                    Some(bar) => {
                        bar.set_style(running.clone());
                        bar.set_prefix(task.clone());
                        bar.set_message(note);
                        bar.reset_elapsed();
                        bar.enable_steady_tick(Duration::from_millis(100));
                    }
                    None => eprintln!("{task:<width$} {note}"),
                }
            }
            RunEvent::TaskRetrying { task, attempt, error, delay_ms } => {
                let first = error.lines().next().unwrap_or_default().to_string();
                let msg = format!("attempt {attempt} failed, retrying in {}: {first}", table::duration(delay_ms));
                match bars.get(&task) {
                    Some(bar) => bar.set_message(msg),
                    None => eprintln!("{task:<width$} {msg}"),
                }
            }
            RunEvent::TaskFinished(s) => {
                let mark = match s.status {
                    TaskStatus::Success => "✓",
                    TaskStatus::Cached | TaskStatus::Skipped => "○",
                    TaskStatus::Failed => "✗",
                    _ => "-",
                };
                let rows = s.rows.map(|r| format!("{} rows", table::count(r))).unwrap_or_default();
                let time = if s.attempts > 0 { table::duration(s.duration_ms) } else { String::new() };
                let msg = format!("{:<16} {:>16} {:>8}", s.status.as_str(), rows, time);
                match bars.get(&s.task) {
                    Some(bar) => {
                        bar.set_style(done.clone());
                        bar.set_prefix(format!("{mark} {}", s.task));
                        bar.finish_with_message(msg);
                    }
                    None => eprintln!("{mark} {:<width$} {msg}", s.task),
                }
            }
            RunEvent::RunFinished { .. } => {}
        }
    }
    for bar in bars.values() {
        if !bar.is_finished() {
            bar.finish();
        }
    }
}
