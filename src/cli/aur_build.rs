//! Building AUR package bases as the user: every base fetched, then
//! reviewed (what deserves a look first, then the PKGBUILD or the diff
//! since the last review), every base's sources downloaded at the same
//! time, signatures checked by omgd, then the bases built: independent
//! ones at the same time, up to `[aur] jobs`, each with a line of its own
//! and its output in `<cache>/aur/logs/<base>.log`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::progress::Renderer;
use super::{EXIT_FAILURE, Failure, Session};
use crate::aur::build::{self, BuildError};
use crate::aur::buildlog::{BuildLog, logs_dir};
use crate::aur::parallel::run_bounded;
use crate::aur::risk;
use crate::aur::sandbox::Sandbox;
use crate::ipc::protocol::RequestBody;
use crate::transaction::Level;

/// One package base to build, checked out in `dir`.
pub(super) struct Base {
    pub pkgbase: String,
    pub version: String,
    /// The packages of the base to install.
    pub packages: Vec<String>,
    pub dir: PathBuf,
    /// What the AUR says of the base now (none for a build from its
    /// history).
    pub facts: Option<AurFacts>,
}

/// The AUR's facts a review points at.
pub(super) struct AurFacts {
    pub maintainer: Option<String>,
    pub first_submitted: i64,
}

/// How the builds run.
pub(super) struct Settings {
    /// Leave makepkg's dependency check out (another root's database).
    pub nodeps: bool,
    pub noconfirm: bool,
    /// Bases built at the same time.
    pub jobs: usize,
    /// `<cache>/aur`: the clones, and the logs under `logs/`.
    pub cache: PathBuf,
}

/// A base whose sources are downloaded and checked: ready to build.
pub(super) struct Ready {
    signed: bool,
    log: BuildLog,
}

pub(super) fn build_failure(e: BuildError) -> Failure {
    Failure::new(e.to_string(), EXIT_FAILURE)
}

/// Downloads (as git clones or fetches into `cache`) every base, several
/// at once; their directories, in order.
pub(super) fn fetch_all(
    renderer: &Renderer,
    aur_url: &str,
    cache: &Path,
    bases: &[&str],
    jobs: usize,
) -> Result<Vec<PathBuf>, Failure> {
    renderer.step(&format!("fetching {} from the AUR", bases.join(" ")));
    let results = run_bounded(bases, jobs.max(4), |base| {
        build::fetch(aur_url, base, cache)
    });
    let mut dirs = Vec::new();
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(dir) => dirs.push(dir),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(dirs)
    } else {
        Err(Failure::new(errors.join("\n"), EXIT_FAILURE))
    }
}

/// Shows each base for review: what deserves a look (always), then the
/// PKGBUILD or the diff since the last review and a question (unless
/// `noconfirm`). A declined base stops everything before anything runs.
pub(super) fn review_all(
    renderer: &mut Renderer,
    bases: &[Base],
    noconfirm: bool,
) -> Result<(), Failure> {
    build::refuse_root().map_err(build_failure)?;
    for base in bases {
        show_risks(renderer, base)?;
        if noconfirm {
            continue;
        }
        let text = build::review_text(&base.dir).map_err(build_failure)?;
        if text.is_empty() {
            renderer.line(&format!(
                "{}: nothing changed since your last review",
                base.pkgbase
            ));
        } else {
            show(renderer, &text);
        }
        let line = ask_line(renderer, &format!(":: Build {}? [Y/n] ", base.pkgbase));
        if matches!(line.as_str(), "n" | "no") {
            return Err(Failure::new(
                format!(
                    "building {} was declined; nothing more was changed",
                    base.pkgbase
                ),
                EXIT_FAILURE,
            ));
        }
        let maintainer = base.facts.as_ref().map(|f| f.maintainer.as_deref());
        build::mark_reviewed(&base.dir, maintainer).map_err(build_failure)?;
    }
    Ok(())
}

/// The risk summary of one base against the version last reviewed.
fn show_risks(renderer: &Renderer, base: &Base) -> Result<(), Failure> {
    let new = risk::version_in(&base.dir).map_err(build_failure)?;
    let old = build::reviewed(&base.dir).and_then(|c| risk::version_at(&base.dir, &c).ok());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let facts = base.facts.as_ref().map(|f| risk::Facts {
        maintainer: f.maintainer.clone(),
        reviewed_maintainer: build::reviewed_maintainer(&base.dir),
        first_submitted: f.first_submitted,
        now,
    });
    let risks = risk::assess(old.as_ref(), &new, facts.as_ref());
    if risks.is_empty() {
        return Ok(());
    }
    let since = if old.is_some() {
        " (since your last review)"
    } else {
        ""
    };
    renderer.step(&format!(
        "{} {}: what deserves a look{since}",
        base.pkgbase, base.version
    ));
    for risk in &risks {
        renderer.message(Level::Warning, &risk.to_string());
    }
    Ok(())
}

/// Reads each base's sources from its PKGBUILD, downloads them all at
/// once (the only step with the network), and has omgd check the signed
/// ones against the keys the user trusts.
pub(super) async fn prepare(
    session: &mut Session,
    renderer: &mut Renderer,
    bases: &[Base],
    sandbox: Option<&Sandbox>,
    settings: &Settings,
) -> Result<Vec<Ready>, Failure> {
    let arch = std::env::consts::ARCH;
    let mut ready = Vec::new();
    let mut checks = Vec::new();
    for base in bases {
        let info = build::srcinfo(&base.dir, &base.pkgbase, sandbox).map_err(build_failure)?;
        let committed = risk::version_in(&base.dir).ok().and_then(|v| v.srcinfo);
        let hidden = risk::undeclared_hosts(committed.as_ref(), &info);
        if !hidden.is_empty() {
            renderer.message(
                Level::Warning,
                &format!(
                    "{}: the PKGBUILD downloads from {}, which its .SRCINFO does not list",
                    base.pkgbase,
                    hidden.join(", ")
                ),
            );
        }
        let signed = build::signed_sources(&info);
        let log = BuildLog::create(
            &logs_dir(&settings.cache),
            &base.pkgbase,
            Arc::new(|_: &str| {}),
        )
        .map_err(|e| {
            Failure::new(
                format!("cannot start the build log of {}: {e}", base.pkgbase),
                EXIT_FAILURE,
            )
        })?;
        ready.push(Ready {
            signed: !signed.is_empty(),
            log,
        });
        checks.push((signed, info.base_values("validpgpkeys", arch)));
    }
    let jobs: Vec<(&Base, &BuildLog)> = bases.iter().zip(ready.iter().map(|r| &r.log)).collect();
    run_jobs(
        renderer,
        "downloading the sources of",
        &jobs,
        settings.jobs.max(4),
        |_, base, log| build::download_sources(&base.dir, &base.pkgbase, sandbox, log),
    )?;
    for (base, (signed, validpgpkeys)) in bases.iter().zip(checks) {
        if signed.is_empty() {
            continue;
        }
        renderer.step(&format!("verifying the signed sources of {}", base.pkgbase));
        renderer.settle();
        let request = RequestBody::VerifySignatures {
            dir: base.dir.display().to_string(),
            pairs: signed.clone(),
            validpgpkeys,
        };
        session.request(request).await?;
        for (data, _) in &signed {
            renderer.line(&format!(" {data}: good signature by a trusted key"));
        }
    }
    Ok(ready)
}

/// Builds `bases` (independent of each other) at the same time; the
/// package files each made, in order.
pub(super) fn build_all(
    renderer: &Renderer,
    bases: &[(&Base, &Ready)],
    sandbox: Option<&Sandbox>,
    settings: &Settings,
) -> Result<Vec<Vec<PathBuf>>, Failure> {
    let jobs: Vec<(&Base, &BuildLog)> = bases.iter().map(|(b, r)| (*b, &r.log)).collect();
    run_jobs(
        renderer,
        "building",
        &jobs,
        settings.jobs,
        |at, base, log| {
            build::makepkg(
                &base.dir,
                &base.pkgbase,
                settings.nodeps,
                bases[at].1.signed,
                sandbox,
                log,
            )?;
            build::packages(&base.dir, &base.pkgbase, &base.packages, sandbox)
        },
    )
}

/// Runs `work` on each base, up to `jobs` at once. Alone, a base's output
/// is printed as it comes; several at once, each has a line showing its
/// latest output, and a failed one's last lines are printed at the end.
fn run_jobs<R: Send>(
    renderer: &Renderer,
    verb: &str,
    bases: &[(&Base, &BuildLog)],
    jobs: usize,
    work: impl Fn(usize, &Base, &BuildLog) -> Result<R, BuildError> + Sync,
) -> Result<Vec<R>, Failure> {
    let alone = jobs.min(bases.len()) <= 1;
    if !alone {
        let names: Vec<&str> = bases.iter().map(|(b, _)| b.pkgbase.as_str()).collect();
        renderer.step(&format!(
            "{verb} {} ({} at a time; output in {})",
            names.join(" "),
            jobs.min(bases.len()),
            bases[0]
                .1
                .path()
                .parent()
                .unwrap_or(Path::new(""))
                .display()
        ));
    }
    let order: Vec<usize> = (0..bases.len()).collect();
    let results = run_bounded(&order, jobs, |&at| {
        let (base, log) = bases[at];
        let started = Instant::now();
        let line = if alone {
            renderer.step(&format!("{verb} {} {}", base.pkgbase, base.version));
            log.set_sink(renderer.echo());
            None
        } else {
            let bar = renderer.job_line(&base.pkgbase);
            let shown = bar.clone();
            log.set_sink(Arc::new(move |text: &str| {
                shown.set_message(text.to_string())
            }));
            Some(bar)
        };
        let result = work(at, base, log);
        log.set_sink(Arc::new(|_: &str| {}));
        if let Some(bar) = line {
            let outcome = match &result {
                Ok(_) => format!("done in {:.1} s", started.elapsed().as_secs_f64()),
                Err(_) => "failed".to_string(),
            };
            renderer.end_job_line(&bar, &format!(" {}: {outcome}", base.pkgbase));
        }
        result
    });
    let mut done = Vec::new();
    let mut errors = Vec::new();
    for ((base, log), result) in bases.iter().zip(results) {
        match result {
            Ok(r) => done.push(r),
            Err(e) => {
                if !alone {
                    renderer.line(&format!(
                        "==> the last lines of {}'s log ({}):\n{}",
                        base.pkgbase,
                        log.path().display(),
                        log.tail(30)
                    ));
                }
                errors.push(e.to_string());
            }
        }
    }
    if errors.is_empty() {
        Ok(done)
    } else {
        Err(Failure::new(errors.join("\n"), EXIT_FAILURE))
    }
}

/// Asks `prompt` and reads the answer, lower case (echoed when the
/// answer does not come from a terminal).
pub(super) fn ask_line(renderer: &mut Renderer, prompt: &str) -> String {
    renderer.prompt(prompt);
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    if !std::io::stdin().is_terminal() {
        renderer.line(line.trim());
    }
    line.trim().to_lowercase()
}

/// The sandbox makepkg runs in: bubblewrap's, unless config.toml turns it
/// off (`[aur] sandbox = false`). Without bwrap the user is told and
/// asked; `--noconfirm` never builds unsandboxed.
pub(super) fn choose_sandbox(
    renderer: &mut Renderer,
    pkgbases: &str,
    noconfirm: bool,
) -> Result<Option<Sandbox>, Failure> {
    if !Sandbox::wanted() {
        return Ok(None);
    }
    if let Some(sandbox) = Sandbox::find() {
        return Ok(Some(sandbox));
    }
    let why = "bwrap (bubblewrap) is not installed or cannot make a sandbox here";
    if noconfirm {
        return Err(Failure::new(
            format!(
                "{why}, so {pkgbases} was not built: install bubblewrap, or set `sandbox = false` under [aur] in config.toml to build without one"
            ),
            EXIT_FAILURE,
        ));
    }
    renderer.line(&format!(
        "{why}: the PKGBUILD of {pkgbases} would run with all your rights over your files and the network"
    ));
    match ask_line(
        renderer,
        &format!(":: Build {pkgbases} without a sandbox? [y/N] "),
    )
    .as_str()
    {
        "y" | "yes" => Ok(None),
        _ => Err(Failure::new(
            format!("building {pkgbases} without a sandbox was declined; nothing more was changed"),
            EXIT_FAILURE,
        )),
    }
}

/// Shows review text: through the pager on a terminal, printed otherwise.
fn show(renderer: &Renderer, text: &str) {
    use std::io::Write;
    if std::io::stdout().is_terminal() {
        let pager = std::env::var("PAGER").unwrap_or_else(|_| "less".into());
        let mut parts = pager.split_whitespace();
        if let Some(program) = parts.next()
            && let Ok(mut child) = std::process::Command::new(program)
                .args(parts)
                .stdin(std::process::Stdio::piped())
                .spawn()
        {
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(text.as_bytes());
            }
            let _ = child.wait();
            return;
        }
    }
    renderer.print(text);
    if !text.ends_with('\n') {
        renderer.line("");
    }
}

/// Reviews, prepares and builds one base checked out in `dir` (a build
/// from its history: `omg downgrade`); the package files made.
pub(super) async fn build_one(
    session: &mut Session,
    renderer: &mut Renderer,
    base: Base,
    settings: &Settings,
) -> Result<Vec<PathBuf>, Failure> {
    let bases = [base];
    review_all(renderer, &bases, settings.noconfirm)?;
    let sandbox = choose_sandbox(renderer, &bases[0].pkgbase, settings.noconfirm)?;
    let ready = prepare(session, renderer, &bases, sandbox.as_ref(), settings).await?;
    let pair = [(&bases[0], &ready[0])];
    let mut files = build_all(renderer, &pair, sandbox.as_ref(), settings)?;
    Ok(files.pop().unwrap_or_default())
}
