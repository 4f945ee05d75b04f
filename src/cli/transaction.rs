//! `omg install`, `omg remove`, `omg upgrade` and `omg sync`: a transaction
//! sent to an `omgd` running as root (started through sudo when the user is
//! not root), its events drawn as they come, its questions put to the user.

use std::io::IsTerminal;

use super::progress::Renderer;
use super::{EXIT_FAILURE, EXIT_OK, Failure, Session, print_json, unexpected};
use crate::ipc::client::{Connection, Streamed};
use crate::ipc::protocol::{ErrorKind, RequestBody, ResponseBody};
use crate::transaction::{
    Answer, ChangeKind, Maintenance, MaintenanceRequest, Question, TransactionAction,
    TransactionOptions, TransactionReport, TransactionRequest, TxEvent,
};
use clap::Args;

/// Options every transaction takes.
#[derive(Debug, Default, Args)]
pub struct TxArgs {
    /// Ask nothing: every question takes its default answer
    #[arg(long, short = 'y', visible_alias = "yes")]
    pub noconfirm: bool,
    /// Show what would be done, change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print the outcome as JSON (progress goes to stderr)
    #[arg(long)]
    pub json: bool,
}

pub async fn run(
    session: &Session,
    action: TransactionAction,
    options: TransactionOptions,
    args: &TxArgs,
) -> Result<u8, Failure> {
    let report = run_report(session, action, options, args).await?;
    if args.json {
        print_json(&report)?;
    }
    Ok(EXIT_OK)
}

/// Carries out a transaction and returns its outcome (summarised for
/// people unless `args.json`; the caller prints JSON).
pub async fn run_report(
    session: &Session,
    action: TransactionAction,
    mut options: TransactionOptions,
    args: &TxArgs,
) -> Result<TransactionReport, Failure> {
    options.noconfirm = args.noconfirm;
    options.dry_run = args.dry_run;
    // polkit may ask for a password only when someone is there to type it.
    options.interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
    let request = TransactionRequest { action, options };
    let mut connection = session.privileged(request.changes_system()).await?;
    let mut renderer = Renderer::new(args.json);
    let outcome = converse(&mut connection, &mut renderer, request.clone()).await;
    renderer.settle();
    connection.close().await;
    let report = outcome?;
    if !args.json {
        summarize(&renderer, &request, &report);
    }
    Ok(report)
}

/// Pins a package or cleans the package cache through a root omgd (its
/// messages drawn as they come); the outcome, for the caller to print.
pub async fn maintain(
    session: &Session,
    task: Maintenance,
    args: &TxArgs,
) -> Result<TransactionReport, Failure> {
    let request = MaintenanceRequest {
        task,
        dry_run: args.dry_run,
        noconfirm: args.noconfirm,
        interactive: std::io::IsTerminal::is_terminal(&std::io::stdin()),
    };
    let mut connection = session.privileged(!request.dry_run).await?;
    let mut renderer = Renderer::new(args.json);
    let outcome = stream(
        &mut connection,
        &mut renderer,
        RequestBody::Maintain(request),
    )
    .await;
    renderer.settle();
    connection.close().await;
    match outcome? {
        ResponseBody::Transaction(report) => Ok(report),
        _ => Err(unexpected()),
    }
}

/// Sends the request and relays events and answers until the outcome.
pub(super) async fn converse(
    connection: &mut Connection,
    renderer: &mut Renderer,
    request: TransactionRequest,
) -> Result<TransactionReport, Failure> {
    match stream(connection, renderer, RequestBody::Transaction(request)).await? {
        ResponseBody::Transaction(report) => Ok(report),
        _ => Err(unexpected()),
    }
}

/// Sends a request that streams events (a transaction, a runtime install),
/// draws them, answers its questions, and returns the final answer.
pub(super) async fn stream(
    connection: &mut Connection,
    renderer: &mut Renderer,
    body: RequestBody,
) -> Result<ResponseBody, Failure> {
    let id = connection.start(body).await?;
    let mut input = Input::new();
    loop {
        match connection.next(id).await? {
            Streamed::Event(TxEvent::Question {
                id: question,
                question: q,
            }) => {
                let answer = ask(renderer, &mut input, &q).await;
                connection.answer(id, question, answer).await?;
            }
            Streamed::Event(event) => renderer.event(&event),
            Streamed::Done(Ok(body)) => return Ok(body),
            Streamed::Done(Err(e)) => {
                renderer.settle();
                let aborted = e.kind == ErrorKind::Aborted;
                let mut failure = Failure::from(e);
                if aborted {
                    failure.code = EXIT_FAILURE;
                }
                return Err(failure);
            }
        }
    }
}

/// What the user did at the end.
pub(super) fn summarize(
    renderer: &Renderer,
    request: &TransactionRequest,
    report: &TransactionReport,
) {
    if matches!(request.action, TransactionAction::Sync { .. }) {
        let updated = report.databases.iter().filter(|d| d.updated).count();
        renderer.line(&format!(
            "{updated} of {} repository database{} updated",
            report.databases.len(),
            if report.databases.len() == 1 { "" } else { "s" }
        ));
        return;
    }
    if report.changes.is_empty() {
        return;
    }
    let count = |kinds: &[ChangeKind]| {
        report
            .changes
            .iter()
            .filter(|c| kinds.contains(&c.kind))
            .count()
    };
    let installed = count(&[ChangeKind::Install]);
    let upgraded = count(&[ChangeKind::Upgrade]);
    let downgraded = count(&[ChangeKind::Downgrade]);
    let reinstalled = count(&[ChangeKind::Reinstall]);
    let removed = count(&[ChangeKind::Remove]);
    let mut parts = Vec::new();
    let verb =
        |n: usize, done: &str| format!("{n} package{} {done}", if n == 1 { "" } else { "s" });
    if report.committed {
        if installed > 0 {
            parts.push(verb(installed, "installed"));
        }
        if upgraded > 0 {
            parts.push(verb(upgraded, "upgraded"));
        }
        if downgraded > 0 {
            parts.push(verb(downgraded, "downgraded"));
        }
        if reinstalled > 0 {
            parts.push(verb(reinstalled, "reinstalled"));
        }
        if removed > 0 {
            parts.push(verb(removed, "removed"));
        }
        renderer.line(&parts.join(", "));
        let units: Vec<&str> = report
            .restarts
            .iter()
            .filter_map(|r| r.unit.as_deref())
            .collect();
        if !report.restarts.is_empty() {
            renderer.line(&format!(
                "restart: {} still run replaced files{} (omg restart)",
                if units.is_empty() {
                    format!("{} processes", report.restarts.len())
                } else {
                    units.join(", ")
                },
                if units.len() < report.restarts.len() && !units.is_empty() {
                    ", and processes outside any unit"
                } else {
                    ""
                }
            ));
        }
        for file in &report.config_files {
            renderer.line(&format!(
                "config: {} left {} beside your changed {} (omg merge)",
                file.package.as_deref().unwrap_or("the transaction"),
                file.path,
                file.target
            ));
        }
    } else if request.options.dry_run {
        renderer.line("dry run: nothing was changed");
    }
}

/// The user's answers: lines of standard input (the terminal, or a pipe
/// for scripted use). Standard input keeps its own buffer between lines.
struct Input;

impl Input {
    fn new() -> Input {
        Input
    }

    /// The next line; `None` at end of input.
    async fn read_line(&mut self) -> Option<String> {
        let read = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            match std::io::stdin().read_line(&mut line) {
                Ok(0) | Err(_) => None,
                Ok(_) => Some(line),
            }
        });
        tokio::select! {
            joined = read => joined.ok().flatten(),
            _ = tokio::signal::ctrl_c() => {
                // Leaving closes the daemon's input: it answers no and
                // releases everything.
                eprintln!();
                std::process::exit(130);
            }
        }
    }
}

/// One line the user types here (not for a daemon), Ctrl-C leaving as
/// during a transaction; `None` at the end of input.
pub(super) async fn read_answer() -> Option<String> {
    Input::new().read_line().await
}

/// A yes/no question asked here (not for a daemon): the default at the
/// end of input.
pub(super) async fn confirm(prompt: &str, default: bool) -> bool {
    confirm_beside_json(prompt, default, false).await
}

/// The same; with `json` the question goes to standard error, beside
/// the JSON a command prints.
pub(super) async fn confirm_beside_json(prompt: &str, default: bool, json: bool) -> bool {
    let question = Question::YesNo {
        prompt: prompt.into(),
        default,
    };
    match ask(&mut Renderer::new(json), &mut Input::new(), &question).await {
        Answer::Yes => true,
        Answer::No => false,
        _ => default,
    }
}

async fn ask(renderer: &mut Renderer, input: &mut Input, question: &Question) -> Answer {
    let interactive = std::io::stdin().is_terminal();
    match question {
        Question::YesNo { prompt, default } => {
            let hint = if *default { "[Y/n]" } else { "[y/N]" };
            loop {
                renderer.prompt(&format!(":: {prompt} {hint} "));
                let Some(line) = input.read_line().await else {
                    renderer.line("");
                    return Answer::Default;
                };
                if !interactive {
                    renderer.line(line.trim());
                }
                match line.trim().to_lowercase().as_str() {
                    "" => return Answer::Default,
                    "y" | "yes" => return Answer::Yes,
                    "n" | "no" => return Answer::No,
                    _ => renderer.line("please answer y or n"),
                }
            }
        }
        Question::Choose {
            prompt,
            options,
            default,
        } => {
            let mut text = format!(":: {prompt}\n");
            for (i, option) in options.iter().enumerate() {
                text.push_str(&format!("   {}) {option}\n", i + 1));
            }
            renderer.prompt(&text);
            loop {
                renderer.prompt(&format!("\nEnter a number (default={}): ", default + 1));
                let Some(line) = input.read_line().await else {
                    renderer.line("");
                    return Answer::Default;
                };
                if !interactive {
                    renderer.line(line.trim());
                }
                let line = line.trim();
                if line.is_empty() {
                    return Answer::Default;
                }
                match line.parse::<u32>() {
                    Ok(n) if n >= 1 && (n as usize) <= options.len() => return Answer::Pick(n - 1),
                    _ => renderer.line(&format!("invalid number: {line}")),
                }
            }
        }
        Question::ChooseMany { prompt, options } => {
            let mut text = format!(":: {prompt}\n");
            for (i, option) in options.iter().enumerate() {
                text.push_str(&format!("   {}) {option}\n", i + 1));
            }
            renderer.prompt(&text);
            loop {
                renderer.prompt("\nEnter a selection (default=all): ");
                let Some(line) = input.read_line().await else {
                    renderer.line("");
                    return Answer::Default;
                };
                if !interactive {
                    renderer.line(line.trim());
                }
                match parse_selection(line.trim(), options.len()) {
                    Ok(None) => return Answer::Default,
                    Ok(Some(picked)) => return Answer::PickMany(picked),
                    Err(e) => renderer.line(&e),
                }
            }
        }
    }
}

/// pacman's selection syntax: numbers and ranges (`1-3 5`), `^` to leave
/// some out of everything (`^2`); empty means all. Indices are from 1.
pub(super) fn parse_selection(text: &str, count: usize) -> Result<Option<Vec<u32>>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let mut include: Vec<u32> = Vec::new();
    let mut exclude: Vec<u32> = Vec::new();
    let mut only_exclusions = true;
    for token in text.split([' ', ',']).filter(|t| !t.is_empty()) {
        let (negated, token) = match token.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, token),
        };
        let range = |t: &str| -> Result<(u32, u32), String> {
            let number = |n: &str| {
                n.parse::<u32>()
                    .ok()
                    .filter(|n| *n >= 1 && (*n as usize) <= count)
                    .ok_or_else(|| format!("invalid number: {n}"))
            };
            match t.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (number(a)?, number(b)?);
                    if a > b {
                        Err(format!("invalid range: {t}"))
                    } else {
                        Ok((a, b))
                    }
                }
                None => number(t).map(|n| (n, n)),
            }
        };
        let (from, to) = range(token)?;
        let target = if negated {
            &mut exclude
        } else {
            only_exclusions = false;
            &mut include
        };
        target.extend((from..=to).map(|n| n - 1));
    }
    if only_exclusions {
        include = (0..count as u32).collect();
    }
    include.retain(|i| !exclude.contains(i));
    Ok(Some(include))
}

#[cfg(test)]
mod tests {
    use super::parse_selection;

    #[test]
    fn selections_read_as_pacman_reads_them() {
        assert_eq!(parse_selection("", 4), Ok(None));
        assert_eq!(parse_selection("1-3 4", 4), Ok(Some(vec![0, 1, 2, 3])));
        assert_eq!(parse_selection("2,4", 4), Ok(Some(vec![1, 3])));
        assert_eq!(parse_selection("^2", 4), Ok(Some(vec![0, 2, 3])));
        assert_eq!(parse_selection("1-4 ^3", 4), Ok(Some(vec![0, 1, 3])));
        assert!(parse_selection("5", 4).is_err());
        assert!(parse_selection("3-1", 4).is_err());
        assert!(parse_selection("x", 4).is_err());
    }
}
