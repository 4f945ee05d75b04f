//! `omg downgrade PKG [VERSION]`, as the `downgrade` tool does it: with a
//! version, exactly that one is installed; without, the versions there are
//! — in the repositories, the package cache, on Arch the Arch Linux
//! Archive, on Debian apt's archive cache, for an AUR package the git
//! history of its package base — are listed for the user to pick from.
//! The downgrade runs in a root omgd as the rollback of one package (the
//! same sources and signature checks, the install reason kept), or for a
//! version only the AUR's history has, as the install of the package
//! built here from that commit; either way it is recorded in the history
//! (so `omg rollback` undoes it), and the user is offered a pin so the
//! next upgrade leaves it.

use std::io::Write;

use clap::Args;

use super::output::{self, Cell, NAME, Table, VERSION};
use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Failure, Session, TxArgs, print_json, unexpected};
use crate::ipc::client::ClientError;
use crate::ipc::protocol::{ErrorKind, RequestBody, ResponseBody};
use crate::model::PackageVersion;
use crate::transaction::{TransactionAction, TransactionOptions};

#[derive(Debug, Args)]
pub struct DowngradeArgs {
    /// The installed package
    pub package: String,
    /// The version to install (without one: choose among those available)
    pub version: Option<String>,
    /// Pin the package at the version installed afterwards, without asking
    #[arg(long)]
    pub pin: bool,
    #[command(flatten)]
    pub tx: TxArgs,
}

pub async fn run(session: &mut Session, args: &DowngradeArgs) -> Result<u8, Failure> {
    let name = args.package.as_str();
    let aur = aur_base(session, name).await?;
    let choice = match (&args.version, &aur) {
        // Not an AUR package: omgd finds the version (or says where it
        // looked).
        (Some(version), None) => Choice {
            version: version.clone(),
            commit: None,
        },
        (Some(version), Some(base)) => {
            let listed = Listing::gather(session, name, Some(base)).await?;
            listed.choice_of(version)
        }
        (None, _) => match choose(session, name, aur.as_deref(), &args.tx).await? {
            Some(choice) => choice,
            None => {
                println!("nothing chosen; nothing was changed");
                return Ok(EXIT_OK);
            }
        },
    };
    let version = choice.version.clone();
    let file = match (&choice.commit, &aur) {
        (Some(commit), Some(base)) if !args.tx.dry_run => {
            Some(build_at(session, name, base, &choice, commit, &args.tx).await?)
        }
        (Some(commit), Some(base)) => {
            println!(
                "{name} {version} would be built from commit {} of {base} in the AUR",
                short(commit)
            );
            return Ok(EXIT_OK);
        }
        _ => None,
    };
    let action = TransactionAction::Downgrade {
        name: name.to_string(),
        version: version.clone(),
        file,
    };
    let report =
        super::transaction::run_report(session, action, TransactionOptions::default(), &args.tx)
            .await?;
    if args.tx.json {
        print_json(&report)?;
    }
    if !report.committed {
        return Ok(EXIT_OK);
    }
    let pin = args.pin
        || (!args.tx.noconfirm
            && !args.tx.json
            && super::transaction::confirm(
                &format!("Pin {name} at {version} so that upgrades leave it?"),
                false,
            )
            .await);
    if pin {
        let quiet = TxArgs {
            noconfirm: true,
            dry_run: false,
            json: args.tx.json,
        };
        super::pin::run_change(session, name, false, &quiet).await?;
    }
    Ok(EXIT_OK)
}

/// The version picked, and for one only the AUR's history has, the
/// commit of its package base to build it from.
struct Choice {
    version: String,
    commit: Option<String>,
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}

/// The package base of `name` when it is an installed AUR package: on
/// Arch, with the AUR on, installed and carried by no repository.
async fn aur_base(session: &mut Session, name: &str) -> Result<Option<String>, Failure> {
    let paths = crate::config::Paths::user().ok();
    let config = paths
        .map(|p| crate::config::Config::load(&p.config_dir).unwrap_or_default())
        .unwrap_or_default();
    if !config.aur.enabled {
        return Ok(None);
    }
    let ResponseBody::Status(status) = session.request(RequestBody::Status).await? else {
        return Err(unexpected());
    };
    if status.backend != crate::model::BackendKind::Alpm {
        return Ok(None);
    }
    let info = match session
        .request(RequestBody::Info {
            name: name.to_string(),
        })
        .await
    {
        Ok(ResponseBody::Info(info)) => info,
        // omgd says what is wrong with the name when the downgrade asks.
        Err(ClientError::Remote(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
        Ok(_) => return Err(unexpected()),
    };
    let foreign = info.repository == "local" && info.installed_version.is_some();
    Ok(foreign.then(|| info.source.clone().unwrap_or_else(|| name.to_string())))
}

/// Every version of a package there is, with the AUR commits that
/// published those only the AUR's history has.
struct Listing {
    versions: Vec<PackageVersion>,
    /// (version, commit) for the versions the AUR's history has.
    aur: Vec<(String, String)>,
}

impl Listing {
    async fn gather(
        session: &mut Session,
        name: &str,
        aur_base: Option<&str>,
    ) -> Result<Listing, Failure> {
        // The Arch Linux Archive keeps no AUR package.
        let mut versions = versions(session, name, aur_base.is_none()).await?;
        let mut aur = Vec::new();
        if let Some(base) = aur_base {
            match aur_history(base, name) {
                Ok(past) => {
                    for p in past {
                        let source = format!("AUR {}", short(&p.commit));
                        match versions.iter_mut().find(|v| v.version == p.version) {
                            Some(v) => v.sources.push(source),
                            None => versions.push(PackageVersion {
                                version: p.version.clone(),
                                sources: vec![source],
                                installed: false,
                            }),
                        }
                        aur.push((p.version, p.commit));
                    }
                    versions.sort_by(|a, b| crate::version::vercmp(&b.version, &a.version));
                }
                Err(e) => super::report_warning(&format!(
                    "the AUR's history of {base} could not be read ({}); listing what is here",
                    e.message
                )),
            }
        }
        Ok(Listing { versions, aur })
    }

    /// `version`: from omgd's sources when they have it, else built from
    /// the AUR commit that published it.
    fn choice_of(&self, version: &str) -> Choice {
        let elsewhere = self
            .versions
            .iter()
            .any(|v| v.version == version && v.sources.iter().any(|s| !s.starts_with("AUR ")));
        let commit = (!elsewhere)
            .then(|| {
                self.aur
                    .iter()
                    .find(|(v, _)| v == version)
                    .map(|(_, c)| c.clone())
            })
            .flatten();
        Choice {
            version: version.to_string(),
            commit,
        }
    }
}

/// The AUR's base URL and where its clones are kept, as the AUR builds
/// have them.
fn aur_cache() -> Result<(String, std::path::PathBuf), Failure> {
    let paths =
        crate::config::Paths::user().map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
    let config = crate::config::Config::load(&paths.config_dir).unwrap_or_default();
    Ok((config.aur.base_url(), paths.cache_dir.join("aur")))
}

/// The versions of `name` the git history of its package base has.
fn aur_history(base: &str, name: &str) -> Result<Vec<crate::aur::history::PastVersion>, Failure> {
    let (url, cache) = aur_cache()?;
    let fail = |e: crate::aur::build::BuildError| Failure::new(e.to_string(), EXIT_FAILURE);
    let dir = crate::aur::build::fetch(&url, base, &cache).map_err(fail)?;
    crate::aur::history::past_versions(&dir, name).map_err(fail)
}

/// Builds `name` at the version chosen from `commit` of its package base
/// (reviewed first, as every AUR build is); the package file made.
async fn build_at(
    session: &mut Session,
    name: &str,
    base: &str,
    choice: &Choice,
    commit: &str,
    args: &TxArgs,
) -> Result<String, Failure> {
    let fail = |e: crate::aur::build::BuildError| Failure::new(e.to_string(), EXIT_FAILURE);
    crate::aur::build::refuse_root().map_err(fail)?;
    let (url, cache) = aur_cache()?;
    let mut renderer = super::progress::Renderer::new(args.json);
    renderer.step(&format!(
        "{name} {} is in the AUR's history of {base} (commit {}): building it",
        choice.version,
        short(commit)
    ));
    let dir = crate::aur::build::fetch(&url, base, &cache).map_err(fail)?;
    crate::aur::history::check_out(&dir, commit).map_err(fail)?;
    let files = super::aur::build_checked_out(
        session,
        &mut renderer,
        &dir,
        base,
        &choice.version,
        &[name.to_string()],
        session.other_database(),
        args.noconfirm,
    )
    .await?;
    renderer.settle();
    let file = files
        .into_iter()
        .next()
        .ok_or_else(|| Failure::new(format!("building {base} made no package"), EXIT_FAILURE))?;
    Ok(file.display().to_string())
}

/// Lists the versions of `name` there are and reads the user's pick.
async fn choose(
    session: &mut Session,
    name: &str,
    aur_base: Option<&str>,
    args: &TxArgs,
) -> Result<Option<Choice>, Failure> {
    let listing = Listing::gather(session, name, aur_base).await?;
    let versions = &listing.versions;
    if args.json {
        print_json(versions)?;
        return Err(Failure::new(
            "name the VERSION to downgrade to (the list above has them)",
            EXIT_USAGE,
        ));
    }
    let choices: Vec<&PackageVersion> = versions.iter().filter(|v| !v.installed).collect();
    if choices.is_empty() {
        return Err(Failure::new(
            format!(
                "no other version of {name} is available (repositories, package cache, {})",
                if aur_base.is_some() {
                    "the AUR's history"
                } else {
                    "archive"
                }
            ),
            EXIT_FAILURE,
        ));
    }
    let mut out = anstream::stdout().lock();
    let table = Table {
        headers: vec!["#", "NAME", "VERSION", "FROM"],
        caps: vec![4, 40, 32],
        rows: versions
            .iter()
            .map(|v| {
                let number = choices
                    .iter()
                    .position(|c| c.version == v.version)
                    .map_or(String::new(), |i| (i + 1).to_string());
                let from = if v.installed {
                    "installed".to_string()
                } else {
                    v.sources.join(", ")
                };
                vec![
                    Cell::plain(number),
                    Cell::new(name, NAME),
                    Cell::new(&v.version, VERSION),
                    Cell::plain(from),
                ]
            })
            .collect(),
    };
    table.print(&mut out, output::terminal_width())?;
    drop(out);
    if args.noconfirm {
        return Err(Failure::new(
            format!("name the VERSION of {name} to downgrade to (--noconfirm asks nothing)"),
            EXIT_USAGE,
        ));
    }
    print!("Which version (a number, nothing to stop)? ");
    std::io::stdout().flush()?;
    let line = super::transaction::read_answer().await.unwrap_or_default();
    let line = line.trim();
    if line.is_empty() {
        return Ok(None);
    }
    match line.parse::<usize>() {
        Ok(n) if (1..=choices.len()).contains(&n) => {
            Ok(Some(listing.choice_of(&choices[n - 1].version)))
        }
        _ => Err(Failure::new(
            format!("{line:?} is not one of the numbers 1 to {}", choices.len()),
            EXIT_USAGE,
        )),
    }
}

/// The versions of `name`, from this user's own omgd (which may read the
/// Arch Linux Archive's listing: it runs with the user's rights); without
/// the archive when it cannot be read.
async fn versions(
    session: &Session,
    name: &str,
    with_archive: bool,
) -> Result<Vec<PackageVersion>, Failure> {
    let mut connection = session.own_daemon().await?;
    let mut ask = async |archive: bool| {
        let body = RequestBody::Versions {
            name: name.to_string(),
            archive,
        };
        connection.request(body).await
    };
    let answer = match ask(with_archive).await {
        Ok(answer) => answer,
        // The archive could not be read: what is here still is.
        Err(ClientError::Remote(e)) if with_archive && e.kind == ErrorKind::Database => {
            super::report_warning(&format!("{}; listing what is here", e.message));
            ask(false).await?
        }
        Err(e) => return Err(e.into()),
    };
    connection.close().await;
    match answer {
        ResponseBody::Versions(versions) => Ok(versions),
        _ => Err(unexpected()),
    }
}
