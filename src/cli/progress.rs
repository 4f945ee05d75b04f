//! Drawing a transaction as it runs: steps, messages, the plan, download
//! and install progress bars (on a terminal), plain lines otherwise.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::output::{self, Cell, DIM, ERROR, LABEL, NAME, Table, VERSION, WARN};
use crate::transaction::{Change, ChangeKind, DownloadState, Level, Plan, ProgressAction, TxEvent};

/// Where the human-readable account goes: stdout, or stderr when stdout
/// carries JSON.
pub struct Renderer {
    to_stderr: bool,
    bars: MultiProgress,
    /// Bars are drawn only on a terminal.
    tty: bool,
    downloads: HashMap<String, ProgressBar>,
    /// The package or check whose progress is being shown (its bar is
    /// gone once it reached 100%).
    current: Option<((ProgressAction, String), Option<ProgressBar>)>,
}

const STEP: anstyle::Style = anstyle::Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Blue)));

impl Renderer {
    pub fn new(to_stderr: bool) -> Renderer {
        let tty = if to_stderr {
            std::io::stderr().is_terminal()
        } else {
            std::io::stdout().is_terminal()
        };
        let target = match (tty, to_stderr) {
            (false, _) => ProgressDrawTarget::hidden(),
            (true, true) => ProgressDrawTarget::stderr(),
            (true, false) => ProgressDrawTarget::stdout(),
        };
        Renderer {
            to_stderr,
            bars: MultiProgress::with_draw_target(target),
            tty,
            downloads: HashMap::new(),
            current: None,
        }
    }

    /// Writes text (whole lines) without tearing the bars.
    pub fn print(&self, text: &str) {
        let write = || write_out(self.to_stderr, text);
        if self.tty {
            self.bars.suspend(write);
        } else {
            write();
        }
    }

    pub fn line(&self, text: &str) {
        self.print(&format!("{text}\n"));
    }

    pub fn step(&self, text: &str) {
        self.line(&format!(
            "{}::{} {text}",
            STEP.render(),
            STEP.render_reset()
        ));
    }

    pub fn message(&self, level: Level, text: &str) {
        let (style, label) = match level {
            Level::Info => {
                self.line(text);
                return;
            }
            Level::Warning => (WARN, "warning:"),
            Level::Error => (ERROR, "error:"),
        };
        self.line(&format!(
            "{}{label}{} {text}",
            style.render(),
            style.render_reset()
        ));
    }

    /// Finishes every bar (before a question, or at the end).
    pub fn settle(&mut self) {
        if let Some((_, Some(bar))) = self.current.take() {
            self.keep(&bar);
        }
        let downloads: Vec<ProgressBar> = self.downloads.drain().map(|(_, bar)| bar).collect();
        for bar in downloads {
            self.keep(&bar);
        }
    }

    /// Takes a bar off the live area and prints its last state as an
    /// ordinary line, so it stays in the scrollback as pacman's do.
    fn keep(&self, bar: &ProgressBar) {
        let done = bar.length().is_some_and(|l| bar.position() >= l);
        let shown = bar.message();
        bar.finish_and_clear();
        self.bars.remove(bar);
        let state = if done { "done" } else { "stopped" };
        self.line(&format!(
            " {shown} {}{state}{}",
            DIM.render(),
            DIM.render_reset()
        ));
    }

    pub fn event(&mut self, event: &TxEvent) {
        match event {
            TxEvent::Step(text) => {
                self.settle();
                self.step(text);
            }
            TxEvent::Message { level, text } => self.message(*level, text),
            TxEvent::Plan(plan) => {
                self.settle();
                self.plan(plan);
            }
            TxEvent::Download {
                file,
                state,
                received,
                total,
            } => self.download(file, *state, *received, *total),
            TxEvent::Progress {
                action,
                package,
                percent,
                current,
                count,
            } => self.progress(*action, package, *percent, *current, *count),
            TxEvent::Hook {
                name,
                position,
                total,
            } => {
                self.settle();
                self.line(&format!("({position}/{total}) {name}"));
            }
            // Questions are the caller's.
            TxEvent::Question { .. } => {}
        }
    }

    fn download(&mut self, file: &str, state: DownloadState, received: u64, total: u64) {
        let size = output::human_size(total.max(received));
        if !self.tty {
            match state {
                DownloadState::Done => self.line(&format!(" {file} downloaded ({size})")),
                DownloadState::UpToDate => self.line(&format!(" {file} is up to date")),
                DownloadState::Failed => {
                    self.message(Level::Error, &format!("{file}: download failed"))
                }
                DownloadState::Started | DownloadState::Progress => {}
            }
            return;
        }
        if !self.downloads.contains_key(file) {
            let bar = self.bars.add(ProgressBar::new(total));
            bar.set_style(
                ProgressStyle::with_template(
                    " {msg:40!} {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} [{wide_bar}] {percent:>3}%",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("#-"),
            );
            bar.set_message(file.to_string());
            self.downloads.insert(file.to_string(), bar);
        }
        let bar = &self.downloads[file];
        match state {
            DownloadState::Started => {}
            DownloadState::Progress => {
                if total > 0 {
                    bar.set_length(total);
                }
                bar.set_position(received);
            }
            DownloadState::Done => {
                if let Some(bar) = self.downloads.remove(file) {
                    bar.finish_and_clear();
                    self.bars.remove(&bar);
                }
                self.line(&format!(" {file} {size}"));
            }
            DownloadState::UpToDate => {
                if let Some(bar) = self.downloads.remove(file) {
                    bar.finish_and_clear();
                    self.bars.remove(&bar);
                }
                self.line(&format!(" {file} is up to date"));
            }
            DownloadState::Failed => {
                if let Some(bar) = self.downloads.remove(file) {
                    bar.finish_and_clear();
                    self.bars.remove(&bar);
                }
                self.message(Level::Error, &format!("{file}: download failed"));
            }
        }
    }

    fn progress(
        &mut self,
        action: ProgressAction,
        package: &str,
        percent: u8,
        current: u32,
        count: u32,
    ) {
        let key = (action, package.to_string());
        let label = if action.per_package() {
            format!("({current}/{count}) {} {package}", action.as_str())
        } else {
            action.as_str().to_string()
        };
        let same = self.current.as_ref().is_some_and(|(k, _)| *k == key);
        if !same {
            if let Some((_, Some(bar))) = self.current.take() {
                self.keep(&bar);
            }
            if !self.tty {
                self.line(&label);
                self.current = Some((key, None));
                return;
            }
            let bar = self.bars.add(ProgressBar::new(100));
            bar.set_style(
                ProgressStyle::with_template(" {msg:50!} [{wide_bar}] {pos:>3}%")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("#-"),
            );
            bar.set_message(label);
            self.current = Some((key, Some(bar)));
        }
        let Some((_, slot)) = &mut self.current else {
            return;
        };
        if let Some(bar) = slot {
            bar.set_position(u64::from(percent));
        }
        if percent >= 100
            && let Some(bar) = slot.take()
        {
            self.keep(&bar);
        }
    }

    /// The plan, as pacman's verbose package list.
    pub fn plan(&self, plan: &Plan) {
        let mut text = Vec::new();
        let width = output::terminal_width().unwrap_or(120);
        let table = Table {
            headers: vec![
                "ACTION",
                "PACKAGE",
                "OLD VERSION",
                "NEW VERSION",
                "SIZE",
                "DOWNLOAD",
            ],
            caps: vec![10, 40, 24, 24, 12],
            rows: plan.changes.iter().map(row).collect(),
        };
        let _ = writeln!(text);
        let _ = table.print(&mut text, Some(width));
        let _ = writeln!(text);
        let total = |label: &str, value: String| {
            format!(
                "{}{label:<22}{} {value}\n",
                LABEL.render(),
                LABEL.render_reset()
            )
        };
        let mut summary = String::new();
        if plan.download_size > 0 {
            summary.push_str(&total(
                "Total Download Size:",
                output::human_size(plan.download_size),
            ));
        }
        let only_removals = plan.changes.iter().all(|c| c.kind == ChangeKind::Remove);
        let only_installs = plan.changes.iter().all(|c| c.kind == ChangeKind::Install);
        let magnitude = output::human_size(plan.size_change.unsigned_abs());
        if only_removals {
            summary.push_str(&total("Total Removed Size:", magnitude));
        } else if only_installs {
            summary.push_str(&total("Total Installed Size:", magnitude));
        } else {
            let sign = if plan.size_change < 0 { "-" } else { "" };
            summary.push_str(&total("Net Upgrade Size:", format!("{sign}{magnitude}")));
        }
        self.print(&format!("{}{summary}\n", String::from_utf8_lossy(&text)));
    }

    /// A live line of its own for one of several jobs running at once
    /// (`{prefix}: {message}`, a spinner on a terminal; nothing otherwise).
    pub fn job_line(&self, prefix: &str) -> ProgressBar {
        let bar = self.bars.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template(" {spinner} {prefix:.bold}: {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(prefix.to_string());
        if self.tty {
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
        }
        bar
    }

    /// Takes a job's line off the live area, leaving `text` in its place.
    pub fn end_job_line(&self, bar: &ProgressBar, text: &str) {
        bar.finish_and_clear();
        self.bars.remove(bar);
        self.line(text);
    }

    /// Where a job's output goes when it runs alone: printed as it comes,
    /// on this renderer's stream, without tearing the bars.
    pub fn echo(&self) -> std::sync::Arc<dyn Fn(&str) + Send + Sync> {
        let (to_stderr, tty, bars) = (self.to_stderr, self.tty, self.bars.clone());
        std::sync::Arc::new(move |line: &str| {
            let write = || write_out(to_stderr, &format!("{line}\n"));
            if tty {
                bars.suspend(write);
            } else {
                write();
            }
        })
    }

    /// Asks nothing: draws the question's text (the caller reads the answer).
    pub fn prompt(&mut self, text: &str) {
        self.settle();
        self.print(text);
    }
}

/// Writes to stderr or stdout (flushed), errors ignored (a closed
/// terminal must not stop a transaction).
fn write_out(to_stderr: bool, text: &str) {
    let _ = if to_stderr {
        anstream::stderr().lock().write_all(text.as_bytes())
    } else {
        let mut out = anstream::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    };
}

fn row(change: &Change) -> Vec<Cell> {
    let name = match &change.repository {
        Some(repo) if change.kind != ChangeKind::Remove => {
            format!("{repo}/{}", change.name)
        }
        _ => change.name.clone(),
    };
    let style = if change.kind == ChangeKind::Remove {
        DIM
    } else {
        NAME
    };
    vec![
        Cell::plain(change.kind.as_str()),
        Cell::new(name, style),
        Cell::plain(change.old_version.clone().unwrap_or_default()),
        Cell::new(change.new_version.clone().unwrap_or_default(), VERSION),
        Cell::plain(output::human_size(change.installed_size)),
        Cell::plain(if change.download_size > 0 {
            output::human_size(change.download_size)
        } else {
            String::new()
        }),
    ]
}
