//! `omg dash`: a terminal dashboard (ratatui) with four tabs — pending
//! updates, the updates that fix known vulnerabilities, runtimes, and the
//! history — driven by omgd's answers (`Outdated`) and the histories.
//! Keyboard only: Tab / → / l and Shift-Tab / ← / h switch tabs (or 1–4),
//! ↑ ↓ / j k move, r asks omgd again, R asks the upstreams too, q or Esc
//! quits. The terminal is always restored, a panic included.

use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Tabs};

use super::{EXIT_FAILURE, EXIT_OK, Failure, Session};
use crate::outdated::Report;
use crate::security::vulns::Severity;

const TABS: [&str; 4] = ["Updates", "Security", "Runtimes", "History"];

/// What the dashboard shows, as text rows per tab.
struct Data {
    tabs: [Vec<Vec<String>>; 4],
    /// A line under the tabs: sources and when they were checked.
    status: String,
}

const HEADERS: [&[&str]; 4] = [
    &["SOURCE", "NAME", "INSTALLED", "AVAILABLE", "KIND", "FIXES"],
    &["NAME", "INSTALLED", "FIXED BY", "SEVERITY", "ADVISORIES"],
    &["RUNTIME", "VERSION", "DEFAULT", "NEWER IN ITS LINE"],
    &[
        "ID", "SCOPE", "WHEN", "USER", "COMMAND", "CHANGES", "RESULT",
    ],
];

fn severity(s: Option<Severity>) -> &'static str {
    s.map_or("", Severity::as_str)
}

fn build(report: &Report) -> Data {
    let now = crate::unix_now();
    let updates = report
        .rows
        .iter()
        .map(|r| {
            vec![
                r.source.as_str().to_string(),
                r.name.clone(),
                r.installed.clone().unwrap_or_else(|| "-".into()),
                r.available.clone(),
                if r.pinned {
                    format!("{}, pinned", r.kind.as_str())
                } else {
                    r.kind.as_str().to_string()
                },
                r.fixes.len().to_string(),
            ]
        })
        .collect();
    let security = report
        .rows
        .iter()
        .filter(|r| !r.fixes.is_empty())
        .map(|r| {
            vec![
                r.name.clone(),
                r.installed.clone().unwrap_or_default(),
                r.available.clone(),
                severity(r.worst()).to_string(),
                r.fixes
                    .iter()
                    .map(|f| f.id.clone())
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
        })
        .collect();
    let mut runtimes = Vec::new();
    if let Ok(versions) = super::runtime::versions_dir() {
        for runtime in crate::runtime::version_file::Runtime::ALL {
            let current = crate::runtime::versions::current(&versions, runtime.as_str());
            for version in super::runtime::installed(&versions, runtime) {
                let newer = report
                    .rows
                    .iter()
                    .find(|r| {
                        r.source == crate::outdated::Source::Runtime
                            && r.name == runtime.as_str()
                            && r.installed.as_deref() == Some(version.as_str())
                    })
                    .map(|r| r.available.clone())
                    .unwrap_or_default();
                runtimes.push(vec![
                    runtime.as_str().to_string(),
                    version.clone(),
                    if current.as_deref() == Some(version.as_str()) {
                        "*".into()
                    } else {
                        String::new()
                    },
                    newer,
                ]);
            }
        }
    }
    for r in report
        .rows
        .iter()
        .filter(|r| r.source == crate::outdated::Source::Project)
    {
        runtimes.push(vec![
            r.name.clone(),
            r.available.clone(),
            String::new(),
            format!("not installed ({} asks)", r.origin),
        ]);
    }
    let mut history = Vec::new();
    for (scope, entries) in super::history::all_entries() {
        for e in entries {
            history.push((
                e.time,
                vec![
                    e.id.to_string(),
                    scope.to_string(),
                    super::output::human_time(e.time, now),
                    e.user.clone(),
                    e.command.clone(),
                    e.changes.len().to_string(),
                    e.result.clone(),
                ],
            ));
        }
    }
    history.sort_by_key(|h| std::cmp::Reverse(h.0));
    let checked: Vec<String> = report
        .checked
        .iter()
        .map(|c| {
            let when =
                c.at.map_or("never".to_string(), |t| super::output::human_time(t, now));
            format!("{}: {when}", c.source.as_str())
        })
        .collect();
    let status = format!(
        "{} pending · {} fixing vulnerabilities · checked {}",
        report.rows.len(),
        report.rows.iter().filter(|r| !r.fixes.is_empty()).count(),
        checked.join(", ")
    );
    Data {
        tabs: [
            updates,
            security,
            runtimes,
            history.into_iter().map(|(_, row)| row).collect(),
        ],
        status,
    }
}

/// What a key asks for.
enum Action {
    Quit,
    Reload { refresh: bool },
}

struct View {
    tab: usize,
    selected: [TableState; 4],
}

impl View {
    fn step(&mut self, data: &Data, by: isize) {
        let rows = data.tabs[self.tab].len();
        if rows == 0 {
            return;
        }
        let at = self.selected[self.tab].selected().unwrap_or(0) as isize;
        let next = (at + by).clamp(0, rows as isize - 1) as usize;
        self.selected[self.tab].select(Some(next));
    }
}

fn draw(frame: &mut ratatui::Frame, data: &Data, view: &mut View) {
    let [tabs, status, body, help] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let titles: Vec<Line> = TABS
        .iter()
        .enumerate()
        .map(|(i, t)| Line::from(format!("{} {t} ({})", i + 1, data.tabs[i].len())))
        .collect();
    frame.render_widget(
        Tabs::new(titles)
            .select(view.tab)
            .block(Block::default().borders(Borders::ALL).title(" omg dash "))
            .highlight_style(
                Style::default()
                    .fg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
            ),
        tabs,
    );
    frame.render_widget(Paragraph::new(data.status.as_str()), status);
    let headers = HEADERS[view.tab];
    let rows = &data.tabs[view.tab];
    if rows.is_empty() {
        let empty = match view.tab {
            0 => "everything is up to date",
            1 => "no pending update fixes a known vulnerability",
            2 => "no runtime is installed",
            _ => "no transaction recorded yet",
        };
        frame.render_widget(
            Paragraph::new(empty).block(Block::default().borders(Borders::ALL)),
            body,
        );
    } else {
        let widths: Vec<Constraint> = headers
            .iter()
            .enumerate()
            .map(|(i, _)| {
                let longest = rows
                    .iter()
                    .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                    .chain([headers[i].len()])
                    .max()
                    .unwrap_or(4);
                Constraint::Length(longest.min(48) as u16)
            })
            .collect();
        let table = Table::new(
            rows.iter()
                .map(|r| Row::new(r.iter().map(|c| Cell::from(c.as_str())))),
            widths,
        )
        .header(
            Row::new(headers.iter().copied())
                .style(Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)),
        )
        .block(Block::default().borders(Borders::ALL))
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
        frame.render_stateful_widget(table, body, &mut view.selected[view.tab]);
    }
    frame.render_widget(
        Paragraph::new("Tab/←→ switch · ↑↓ move · r reload · R ask upstreams · q quit")
            .style(Style::default().add_modifier(Modifier::DIM)),
        help,
    );
}

/// Runs the interface until a key asks for something else.
fn interact(
    terminal: &mut ratatui::DefaultTerminal,
    data: &Data,
    view: &mut View,
) -> std::io::Result<Action> {
    loop {
        terminal.draw(|frame| draw(frame, data, view))?;
        if !event::poll(Duration::from_millis(500))? {
            continue;
        }
        let Event::Key(key) = event::read()? else {
            continue;
        };
        if key.kind != KeyEventKind::Press {
            continue;
        }
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => return Ok(Action::Quit),
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                return Ok(Action::Quit);
            }
            KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => view.tab = (view.tab + 1) % 4,
            KeyCode::BackTab | KeyCode::Left | KeyCode::Char('h') => view.tab = (view.tab + 3) % 4,
            KeyCode::Char(c @ '1'..='4') => view.tab = c as usize - '1' as usize,
            KeyCode::Down | KeyCode::Char('j') => view.step(data, 1),
            KeyCode::Up | KeyCode::Char('k') => view.step(data, -1),
            KeyCode::PageDown => view.step(data, 10),
            KeyCode::PageUp => view.step(data, -10),
            KeyCode::Char('r') => return Ok(Action::Reload { refresh: false }),
            KeyCode::Char('R') => return Ok(Action::Reload { refresh: true }),
            _ => {}
        }
    }
}

pub async fn run(session: &mut Session) -> Result<u8, Failure> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            "omg dash needs a terminal (omg outdated --json and omg history --json serve scripts)",
            EXIT_FAILURE,
        ));
    }
    let mut report = super::outdated::report(session, false).await?;
    // Restores the terminal on a panic too.
    let mut terminal = ratatui::try_init()
        .map_err(|e| Failure::new(format!("cannot set up the terminal: {e}"), EXIT_FAILURE))?;
    let mut view = View {
        tab: 0,
        selected: Default::default(),
    };
    let outcome = loop {
        let data = build(&report);
        match interact(&mut terminal, &data, &mut view) {
            Ok(Action::Quit) => break Ok(EXIT_OK),
            Ok(Action::Reload { refresh }) => match super::outdated::report(session, refresh).await
            {
                Ok(fresh) => report = fresh,
                Err(e) => break Err(e),
            },
            Err(e) => {
                break Err(Failure::new(
                    format!("the terminal failed: {e}"),
                    EXIT_FAILURE,
                ));
            }
        }
    };
    ratatui::restore();
    outcome
}
