//! Installing and upgrading AUR packages: omgd plans (resolver, AUR
//! records, the package database); here, as the user, the repository
//! dependencies are installed, the bases built (`aur_build`) level by
//! level, and each level's packages installed by one root omgd transaction.
//! A failed build removes the dependencies this run installed.

use super::aur_build::{self, AurFacts, Base, Settings};
use super::progress::Renderer;
use super::transaction::{converse, summarize};
use super::{EXIT_FAILURE, EXIT_OK, Failure, Session, TxArgs, print_json};
use crate::aur::build;
use crate::aur::resolve::Plan;
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
pub(super) async fn plan(
    session: &mut Session,
    targets: Vec<String>,
) -> Result<Option<Plan>, Failure> {
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

/// The root omgd the transactions go to, opened when first needed. A
/// listening daemon hangs up on a client silent for a while (a long
/// build): such a connection is opened again.
struct RootLink {
    connection: Option<Connection>,
    used: std::time::Instant,
}

/// How long a socket connection is trusted to stay open while unused.
const SOCKET_IDLE: std::time::Duration = std::time::Duration::from_secs(60);

impl RootLink {
    fn new() -> RootLink {
        RootLink {
            connection: None,
            used: std::time::Instant::now(),
        }
    }

    async fn get(&mut self, session: &Session) -> Result<&mut Connection, Failure> {
        let stale = self
            .connection
            .as_ref()
            .is_some_and(|c| c.over_socket() && self.used.elapsed() > SOCKET_IDLE);
        if stale && let Some(old) = self.connection.take() {
            old.close().await;
        }
        let connection = match self.connection.take() {
            Some(c) => c,
            None => session.privileged(true).await?,
        };
        self.used = std::time::Instant::now();
        Ok(self.connection.insert(connection))
    }

    async fn close(self) {
        if let Some(connection) = self.connection {
            connection.close().await;
        }
    }
}

/// One root transaction.
async fn transact(
    session: &Session,
    root: &mut RootLink,
    renderer: &mut Renderer,
    action: TransactionAction,
    options: TransactionOptions,
) -> Result<TransactionReport, Failure> {
    let request = TransactionRequest { action, options };
    let connection = root.get(session).await?;
    let report = converse(connection, renderer, request.clone()).await?;
    root.used = std::time::Instant::now();
    renderer.settle();
    summarize(renderer, &request, &report);
    Ok(report)
}

/// The packages a transaction newly installed, of `among` (all when
/// `None`).
fn installed_names(report: &TransactionReport, among: Option<&[String]>) -> Vec<String> {
    report
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Install)
        .filter(|c| among.is_none_or(|names| names.contains(&c.name)))
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
    if args.dry_run {
        let renderer = Renderer::new(args.json);
        show_plan(&renderer, &plan);
        if args.json {
            print_json(&plan)?;
        }
        renderer.line("dry run: nothing was changed");
        return Ok(EXIT_OK);
    }
    let changes = execute_changes(session, plan, options, args, aur).await?;
    if args.json {
        print_json(&TransactionReport {
            changes,
            committed: true,
            ..TransactionReport::default()
        })?;
    }
    Ok(EXIT_OK)
}

/// Builds and installs `plan` (reviewed first); the changes made.
pub(super) async fn execute_changes(
    session: &mut Session,
    plan: Plan,
    options: TransactionOptions,
    args: &TxArgs,
    aur: &AurOptions,
) -> Result<Vec<Change>, Failure> {
    let mut renderer = Renderer::new(args.json);
    show_plan(&renderer, &plan);
    build::refuse_root().map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
    let paths = Paths::user().map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
    let config = Config::load(&paths.config_dir).unwrap_or_default();
    let settings = Settings {
        // Building for another root: makepkg cannot see that database.
        nodeps: session.other_database(),
        noconfirm: args.noconfirm,
        jobs: config.aur.build_jobs(),
        cache: paths.cache_dir.join("aur"),
    };

    let mut root = RootLink::new();
    let mut changes: Vec<Change> = Vec::new();
    let mut installed_deps: Vec<String> = Vec::new();
    let outcome = run_plan(
        session,
        &mut root,
        &mut renderer,
        &plan,
        &config.aur.base_url(),
        &settings,
        &options,
        &mut changes,
        &mut installed_deps,
    )
    .await;
    if let Err(failure) = outcome {
        // Leave the system as it was: take away what this run installed
        // only to get here.
        if !installed_deps.is_empty() {
            renderer.step("removing the dependencies installed for this build");
            let _ = transact(
                session,
                &mut root,
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
        root.close().await;
        return Err(failure);
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
                session,
                &mut root,
                &mut renderer,
                TransactionAction::Remove { targets: make_only },
                TransactionOptions {
                    noconfirm: true,
                    group: options.group.clone(),
                    ..TransactionOptions::default()
                },
            )
            .await?;
        }
    }
    root.close().await;
    Ok(changes)
}

/// The plan's transactions and builds, in order: the repository packages,
/// then every base fetched, reviewed and its sources downloaded, then
/// level by level the bases built at the same time and installed by one
/// transaction. What was installed only as a dependency is added to
/// `installed_deps` as it happens (for the caller to undo on failure).
#[allow(clippy::too_many_arguments)]
async fn run_plan(
    session: &mut Session,
    root: &mut RootLink,
    renderer: &mut Renderer,
    plan: &Plan,
    aur_url: &str,
    settings: &Settings,
    options: &TransactionOptions,
    changes: &mut Vec<Change>,
    installed_deps: &mut Vec<String>,
) -> Result<(), Failure> {
    let base_options = TransactionOptions {
        noconfirm: settings.noconfirm,
        group: options.group.clone(),
        plan_accepted: options.plan_accepted,
        ..TransactionOptions::default()
    };
    if !plan.repo_deps.is_empty() {
        let report = transact(
            session,
            root,
            renderer,
            TransactionAction::Install {
                targets: plan.repo_deps.clone(),
            },
            TransactionOptions {
                as_deps: true,
                needed: true,
                ..base_options.clone()
            },
        )
        .await?;
        installed_deps.extend(installed_names(&report, None));
        changes.extend(report.changes);
    }
    if !plan.repo_targets.is_empty() {
        let report = transact(
            session,
            root,
            renderer,
            TransactionAction::Install {
                targets: plan.repo_targets.clone(),
            },
            TransactionOptions {
                noconfirm: settings.noconfirm,
                ..options.clone()
            },
        )
        .await?;
        changes.extend(report.changes);
    }
    let names: Vec<&str> = plan.builds.iter().map(|b| b.pkgbase.as_str()).collect();
    let dirs = aur_build::fetch_all(renderer, aur_url, &settings.cache, &names, settings.jobs)?;
    let bases: Vec<Base> = plan
        .builds
        .iter()
        .zip(dirs)
        .map(|(b, dir)| Base {
            pkgbase: b.pkgbase.clone(),
            version: b.version.clone(),
            packages: b.packages.clone(),
            dir,
            facts: Some(AurFacts {
                maintainer: b.maintainer.clone(),
                first_submitted: b.first_submitted,
            }),
        })
        .collect();
    aur_build::review_all(renderer, &bases, settings.noconfirm)?;
    let sandbox = aur_build::choose_sandbox(renderer, &names.join(" "), settings.noconfirm)?;
    let ready = aur_build::prepare(session, renderer, &bases, sandbox.as_ref(), settings).await?;
    let levels = plan.levels();
    let mut at = 0;
    for level in levels {
        let range = at..at + level.len();
        at = range.end;
        let pairs: Vec<(&Base, &aur_build::Ready)> =
            bases[range.clone()].iter().zip(&ready[range]).collect();
        let files = aur_build::build_all(renderer, &pairs, sandbox.as_ref(), settings)?;
        // One transaction for the level: the dependencies among its
        // packages are marked so, the rest as the command asked.
        let dependencies: Vec<String> = level
            .iter()
            .filter(|b| b.explicit.is_empty())
            .flat_map(|b| b.packages.iter().cloned())
            .collect();
        let report = transact(
            session,
            root,
            renderer,
            TransactionAction::Install {
                targets: files
                    .iter()
                    .flatten()
                    .map(|f| f.display().to_string())
                    .collect(),
            },
            TransactionOptions {
                as_deps: options.as_deps,
                as_explicit: options.as_explicit,
                dependencies: dependencies.clone(),
                ..base_options.clone()
            },
        )
        .await?;
        installed_deps.extend(installed_names(&report, Some(&dependencies)));
        changes.extend(report.changes);
        // What upstream commits a VCS package was built from, for --devel.
        if let Some(path) = devel_db_path() {
            let mut db = crate::aur::devel::DevelDb::load(&path);
            for (base, _) in &pairs {
                db.record(&base.pkgbase, &base.dir, &base.packages);
            }
            if let Err(e) = db.save(&path) {
                super::report_warning(&format!("cannot save {}: {e}", path.display()));
            }
        }
    }
    Ok(())
}
