//! Installing and upgrading AUR packages: omgd plans (resolver, AUR
//! records, the package database); here, as the user, each base is fetched,
//! shown for review, built with makepkg, and installed through a root omgd
//! transaction — the repository dependencies first, each build after what
//! it needs. A failed build removes the dependencies this run installed.

use std::io::{IsTerminal, Write};

use super::progress::Renderer;
use super::transaction::{converse, summarize};
use super::{EXIT_FAILURE, EXIT_OK, Failure, Session, TxArgs, print_json};
use crate::aur::build;
use crate::aur::resolve::Plan;
use crate::aur::sandbox::Sandbox;
use crate::config::{Config, Paths};
use crate::ipc::client::{ClientError, Connection};
use crate::ipc::protocol::{ErrorKind, RequestBody, ResponseBody};
use crate::transaction::{
    Change, ChangeKind, TransactionAction, TransactionOptions, TransactionReport,
    TransactionRequest,
};

/// What the AUR part of a command needs to know.
#[derive(Debug, Default)]
pub struct AurOptions {
    /// Remove the repository packages needed only to build, afterwards.
    pub remove_make: bool,
    /// Upgrade: also rebuild VCS packages whose upstream has moved on.
    pub devel: bool,
}

/// Where built bases' upstream commits are kept.
fn devel_db_path() -> Option<std::path::PathBuf> {
    Paths::user()
        .ok()
        .map(|p| p.cache_dir.join("aur").join("devel.json"))
}

/// `omg install`: through the AUR when some target is only there, else the
/// ordinary transaction.
pub async fn install(
    session: &mut Session,
    targets: Vec<String>,
    options: TransactionOptions,
    args: &TxArgs,
    aur: &AurOptions,
) -> Result<u8, Failure> {
    // Package files by absolute path: the daemon's working directory is
    // not this one.
    let targets: Vec<String> = targets
        .into_iter()
        .map(|t| {
            let path = std::path::Path::new(&t);
            if crate::auth::client_files::is_package_file(&t) && path.is_file() {
                std::path::absolute(path).map_or(t, |p| p.display().to_string())
            } else {
                t
            }
        })
        .collect();
    let plan = match plan(session, targets.clone()).await? {
        Some(plan) if !plan.builds.is_empty() => plan,
        _ => {
            let action = TransactionAction::Install { targets };
            return super::transaction::run(session, action, options, args).await;
        }
    };
    execute(session, plan, options, args, aur).await
}

/// `omg upgrade`: the repositories, then the AUR packages it has newer.
pub async fn upgrade(
    session: &mut Session,
    options: TransactionOptions,
    args: &TxArgs,
    aur: &AurOptions,
) -> Result<u8, Failure> {
    let code = super::transaction::run(session, TransactionAction::Upgrade, options, args).await?;
    let updates = match session.request(RequestBody::AurUpdates).await {
        Ok(ResponseBody::AurUpdates(u)) => u,
        Err(ClientError::Remote(e)) if e.kind == ErrorKind::Unsupported => return Ok(code),
        Err(e) => return Err(e.into()),
        Ok(_) => return Err(super::unexpected()),
    };
    let renderer = Renderer::new(args.json);
    let mut targets: Vec<String> = updates.iter().map(|u| format!("aur/{}", u.name)).collect();
    if !updates.is_empty() {
        renderer.step("AUR packages with newer versions:");
        for u in &updates {
            renderer.line(&format!(
                "  {} {} -> {}",
                u.name, u.installed_version, u.aur_version
            ));
        }
    }
    if aur.devel {
        let installed: Vec<String> = match session
            .request(RequestBody::List {
                filter: crate::model::ListFilter::All,
            })
            .await?
        {
            ResponseBody::List(list) => list.into_iter().map(|p| p.name).collect(),
            _ => return Err(super::unexpected()),
        };
        renderer.step("checking VCS packages against their upstream...");
        let db = devel_db_path()
            .map(|p| crate::aur::devel::DevelDb::load(&p))
            .unwrap_or_default();
        for (base, built) in db.outdated() {
            let names: Vec<&String> = built
                .packages
                .iter()
                .filter(|n| installed.contains(n))
                .collect();
            if names.is_empty() {
                continue;
            }
            renderer.line(&format!("  {base}: upstream has new commits"));
            for name in names {
                let target = format!("aur/{name}");
                if !targets.contains(&target) {
                    targets.push(target);
                }
            }
        }
    }
    if targets.is_empty() {
        return Ok(code);
    }
    let Some(plan) = plan(session, targets).await? else {
        return Ok(code);
    };
    // Upgrades keep each package's install reason.
    execute(session, plan, TransactionOptions::default(), args, aur).await
}

/// omgd's plan, or `None` where there is no AUR (Debian, or turned off).
async fn plan(session: &mut Session, targets: Vec<String>) -> Result<Option<Plan>, Failure> {
    match session.request(RequestBody::AurPlan { targets }).await {
        Ok(ResponseBody::AurPlan(plan)) => Ok(Some(plan)),
        Ok(_) => Err(super::unexpected()),
        Err(ClientError::Remote(e)) if e.kind == ErrorKind::Unsupported => Ok(None),
        Err(ClientError::Remote(e)) if e.kind == ErrorKind::Database => {
            // The AUR could not be asked: the repositories may still do.
            super::report_warning(&e.message);
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn show_plan(renderer: &Renderer, plan: &Plan) {
    if !plan.repo_targets.is_empty() {
        renderer.step(&format!(
            "From the repositories: {}",
            plan.repo_targets.join(" ")
        ));
    }
    if !plan.repo_deps.is_empty() {
        renderer.step(&format!(
            "Repository dependencies (installed as dependencies): {}",
            plan.repo_deps.join(" ")
        ));
    }
    renderer.step("AUR packages, in build order:");
    for (i, build) in plan.builds.iter().enumerate() {
        let role = if build.explicit.is_empty() {
            "dependency"
        } else {
            "target"
        };
        renderer.line(&format!(
            "  {}) {} {} [{}] ({role})",
            i + 1,
            build.pkgbase,
            build.version,
            build.packages.join(", ")
        ));
    }
}

/// One root transaction on `connection`.
async fn transact(
    connection: &mut Connection,
    renderer: &mut Renderer,
    action: TransactionAction,
    options: TransactionOptions,
) -> Result<TransactionReport, Failure> {
    let request = TransactionRequest { action, options };
    let report = converse(connection, renderer, request.clone()).await?;
    renderer.settle();
    summarize(renderer, &request, &report);
    Ok(report)
}

fn installed_names(report: &TransactionReport) -> Vec<String> {
    report
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Install)
        .map(|c| c.name.clone())
        .collect()
}

async fn execute(
    session: &mut Session,
    plan: Plan,
    options: TransactionOptions,
    args: &TxArgs,
    aur: &AurOptions,
) -> Result<u8, Failure> {
    let mut renderer = Renderer::new(args.json);
    show_plan(&renderer, &plan);
    if args.dry_run {
        if args.json {
            print_json(&plan)?;
        }
        renderer.line("dry run: nothing was changed");
        return Ok(EXIT_OK);
    }
    build::refuse_root().map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
    let paths = Paths::user().map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
    let config = Config::load(&paths.config_dir).unwrap_or_default();
    let aur_url = config.aur.base_url();
    let cache = paths.cache_dir.join("aur");
    // Building for another root: makepkg cannot see that database.
    let nodeps = session.other_database();

    let mut connection = session.privileged(true).await?;
    let mut reports: Vec<Change> = Vec::new();
    let mut installed_deps: Vec<String> = Vec::new();
    let base = TransactionOptions {
        noconfirm: args.noconfirm,
        ..TransactionOptions::default()
    };
    if !plan.repo_deps.is_empty() {
        let report = transact(
            &mut connection,
            &mut renderer,
            TransactionAction::Install {
                targets: plan.repo_deps.clone(),
            },
            TransactionOptions {
                as_deps: true,
                needed: true,
                ..base.clone()
            },
        )
        .await?;
        installed_deps.extend(installed_names(&report));
        reports.extend(report.changes);
    }
    if !plan.repo_targets.is_empty() {
        let report = transact(
            &mut connection,
            &mut renderer,
            TransactionAction::Install {
                targets: plan.repo_targets.clone(),
            },
            TransactionOptions {
                noconfirm: args.noconfirm,
                ..options.clone()
            },
        )
        .await?;
        reports.extend(report.changes);
    }
    for build in &plan.builds {
        let outcome = build_one(
            session,
            &mut connection,
            &mut renderer,
            build,
            &aur_url,
            &cache,
            nodeps,
            args.noconfirm,
            &options,
        )
        .await;
        match outcome {
            Ok(report) => {
                if build.explicit.is_empty() {
                    installed_deps.extend(installed_names(&report));
                }
                reports.extend(report.changes);
            }
            Err(failure) => {
                // Leave the system as it was: take away what this run
                // installed only to get here.
                if !installed_deps.is_empty() {
                    renderer.step("removing the dependencies installed for this build");
                    let _ = transact(
                        &mut connection,
                        &mut renderer,
                        TransactionAction::Remove {
                            targets: installed_deps.clone(),
                        },
                        TransactionOptions {
                            noconfirm: true,
                            ..TransactionOptions::default()
                        },
                    )
                    .await;
                }
                connection.close().await;
                return Err(failure);
            }
        }
    }
    if aur.remove_make {
        let make_only: Vec<String> = installed_deps
            .iter()
            .filter(|n| plan.repo_make_deps.contains(n))
            .cloned()
            .collect();
        if !make_only.is_empty() {
            renderer.step("removing the packages needed only to build");
            transact(
                &mut connection,
                &mut renderer,
                TransactionAction::Remove { targets: make_only },
                TransactionOptions {
                    noconfirm: true,
                    ..TransactionOptions::default()
                },
            )
            .await?;
        }
    }
    connection.close().await;
    if args.json {
        print_json(&TransactionReport {
            changes: reports,
            committed: true,
            ..TransactionReport::default()
        })?;
    }
    Ok(EXIT_OK)
}

#[allow(clippy::too_many_arguments)]
async fn build_one(
    session: &mut Session,
    connection: &mut Connection,
    renderer: &mut Renderer,
    build: &crate::aur::resolve::Build,
    aur_url: &str,
    cache: &std::path::Path,
    nodeps: bool,
    noconfirm: bool,
    options: &TransactionOptions,
) -> Result<TransactionReport, Failure> {
    renderer.step(&format!("fetching {} from the AUR", build.pkgbase));
    let dir = build::fetch(aur_url, &build.pkgbase, cache).map_err(build_failure)?;
    let files = build_checked_out(
        session,
        renderer,
        &dir,
        &build.pkgbase,
        &build.version,
        &build.packages,
        nodeps,
        noconfirm,
    )
    .await?;
    let targets = files.iter().map(|f| f.display().to_string()).collect();
    let as_deps = build.explicit.is_empty();
    let report = transact(
        connection,
        renderer,
        TransactionAction::Install { targets },
        TransactionOptions {
            noconfirm,
            as_deps: as_deps || options.as_deps,
            as_explicit: !as_deps && options.as_explicit,
            ..TransactionOptions::default()
        },
    )
    .await?;
    // What upstream commits a VCS package was built from, for --devel.
    if let Some(path) = devel_db_path() {
        let mut db = crate::aur::devel::DevelDb::load(&path);
        db.record(&build.pkgbase, &dir, &build.packages);
        if let Err(e) = db.save(&path) {
            super::report_warning(&format!("cannot save {}: {e}", path.display()));
        }
    }
    Ok(report)
}

pub(super) fn build_failure(e: build::BuildError) -> Failure {
    Failure::new(e.to_string(), EXIT_FAILURE)
}

/// Builds the package base checked out in `dir` as the user: shown for
/// review first (unless `noconfirm`), its signed sources checked by omgd,
/// then makepkg; the package files made for `packages`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn build_checked_out(
    session: &mut Session,
    renderer: &mut Renderer,
    dir: &std::path::Path,
    pkgbase: &str,
    version: &str,
    packages: &[String],
    nodeps: bool,
    noconfirm: bool,
) -> Result<Vec<std::path::PathBuf>, Failure> {
    build::refuse_root().map_err(build_failure)?;
    if !noconfirm {
        let text = build::review_text(dir).map_err(build_failure)?;
        if text.is_empty() {
            renderer.line(&format!(
                "{pkgbase}: nothing changed since your last review"
            ));
        } else {
            show(renderer, &text);
        }
        let line = ask_line(renderer, &format!(":: Build {pkgbase}? [Y/n] "));
        if matches!(line.as_str(), "n" | "no") {
            return Err(Failure::new(
                format!("building {pkgbase} was declined; nothing more was changed"),
                EXIT_FAILURE,
            ));
        }
        build::mark_reviewed(dir).map_err(build_failure)?;
    }
    let sandbox = choose_sandbox(renderer, pkgbase, noconfirm)?;
    let sandbox = sandbox.as_ref();
    // Signed sources: downloaded and checksummed by makepkg, signatures
    // checked by omgd against the keys the user trusts.
    let info = build::srcinfo(dir, pkgbase, sandbox).map_err(build_failure)?;
    let signed = build::signed_sources(&info);
    // The only step with the network: the build itself runs without.
    renderer.step(&format!("downloading the sources of {pkgbase}"));
    renderer.settle();
    build::download_sources(dir, pkgbase, sandbox).map_err(build_failure)?;
    if !signed.is_empty() {
        renderer.step(&format!("verifying the signed sources of {pkgbase}"));
        renderer.settle();
        let request = RequestBody::VerifySignatures {
            dir: dir.display().to_string(),
            pairs: signed.clone(),
            validpgpkeys: info.base_values("validpgpkeys", std::env::consts::ARCH),
        };
        session.request(request).await?;
        for (data, _) in &signed {
            renderer.line(&format!(" {data}: good signature by a trusted key"));
        }
    }
    renderer.step(&format!("building {pkgbase} {version}"));
    renderer.settle();
    build::makepkg(dir, pkgbase, nodeps, !signed.is_empty(), sandbox).map_err(build_failure)?;
    build::packages(dir, pkgbase, packages, sandbox).map_err(build_failure)
}

/// Asks `prompt` and reads the answer, lower case (echoed when the
/// answer does not come from a terminal).
fn ask_line(renderer: &mut Renderer, prompt: &str) -> String {
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
fn choose_sandbox(
    renderer: &mut Renderer,
    pkgbase: &str,
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
                "{why}, so {pkgbase} was not built: install bubblewrap, or set `sandbox = false` under [aur] in config.toml to build without one"
            ),
            EXIT_FAILURE,
        ));
    }
    renderer.line(&format!(
        "{why}: the PKGBUILD of {pkgbase} would run with all your rights over your files and the network"
    ));
    match ask_line(
        renderer,
        &format!(":: Build {pkgbase} without a sandbox? [y/N] "),
    )
    .as_str()
    {
        "y" | "yes" => Ok(None),
        _ => Err(Failure::new(
            format!("building {pkgbase} without a sandbox was declined; nothing more was changed"),
            EXIT_FAILURE,
        )),
    }
}

/// Shows review text: through the pager on a terminal, printed otherwise.
fn show(renderer: &Renderer, text: &str) {
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
