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
    let aur = aur_source(session, name).await?;
    let choice = match (&args.version, &aur) {
        // Not an AUR package: omgd finds the version (or says where it
        // looked).
        (Some(version), None) => Choice {
            version: version.clone(),
            from_aur: None,
        },
        (Some(version), Some(source)) => {
            let listed = Listing::gather(session, name, Some(source)).await?;
            listed.choice_of(version)
        }
        (None, _) => match choose(session, name, aur.as_ref(), &args.tx).await? {
            Some(choice) => choice,
            None => {
                println!("nothing chosen; nothing was changed");
                return Ok(EXIT_OK);
            }
        },
    };
    let version = choice.version.clone();
    let file = match (&choice.from_aur, &aur) {
        (Some(commit), Some(source)) if !args.tx.dry_run => {
            Some(build_at(session, name, &source.base, &version, commit, &args.tx).await?)
        }
        (Some(commit), Some(source)) => {
            println!(
                "{name} {version} would be built from commit {} of {} in the AUR",
                short(&commit.commit),
                source.base
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
    from_aur: Option<AurCommit>,
}

/// A commit of a package base, in the clone the listing brought up to
/// date.
struct AurCommit {
    commit: String,
    clone: std::path::PathBuf,
}

/// An installed AUR package's base, and where its clone comes from and is
/// kept (as the AUR builds have them).
struct AurSource {
    base: String,
    url: String,
    cache: std::path::PathBuf,
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}

/// The package base of `name` when it is an installed AUR package: on
/// Arch, with the AUR on, installed and carried by no repository.
async fn aur_source(session: &mut Session, name: &str) -> Result<Option<AurSource>, Failure> {
    let paths = match crate::config::Paths::user() {
        Ok(paths) => paths,
        Err(e) => {
            super::report_warning(&format!("{e}: the AUR's history is not looked at"));
            return Ok(None);
        }
    };
    let config = crate::config::Config::load(&paths.config_dir).unwrap_or_default();
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
    Ok(foreign.then(|| AurSource {
        base: info.source.clone().unwrap_or_else(|| name.to_string()),
        url: config.aur.base_url(),
        cache: paths.cache_dir.join("aur"),
    }))
}

/// Every version of a package there is, with the AUR commits that
/// published those only the AUR's history has.
struct Listing {
    versions: Vec<PackageVersion>,
    /// (version, commit) for the versions the AUR's history has.
    aur: Vec<(String, String)>,
    /// The base's clone, brought up to date to read that history.
    clone: Option<std::path::PathBuf>,
}

impl Listing {
    async fn gather(
        session: &mut Session,
        name: &str,
        aur: Option<&AurSource>,
    ) -> Result<Listing, Failure> {
        // The Arch Linux Archive keeps no AUR package.
        let mut versions = versions(session, name, aur.is_none()).await?;
        let mut listing = Listing {
            versions: Vec::new(),
            aur: Vec::new(),
            clone: None,
        };
        if let Some(source) = aur {
            match aur_history(source, name) {
                Ok((clone, past)) => {
                    for p in past {
                        let from = format!("AUR {}", short(&p.commit));
                        match versions.iter_mut().find(|v| v.version == p.version) {
                            Some(v) => v.sources.push(from),
                            None => versions.push(PackageVersion {
                                version: p.version.clone(),
                                sources: vec![from],
                                installed: false,
                            }),
                        }
                        listing.aur.push((p.version, p.commit));
                    }
                    versions.sort_by(|a, b| crate::version::vercmp(&b.version, &a.version));
                    listing.clone = Some(clone);
                }
                Err(e) => super::report_warning(&format!(
                    "the AUR's history of {} could not be read ({}); listing what is here",
                    source.base, e.message
                )),
            }
        }
        listing.versions = versions;
        Ok(listing)
    }

    /// `version`: from omgd's sources when they have it, else built from
    /// the AUR commit that published it.
    fn choice_of(&self, version: &str) -> Choice {
        let elsewhere = self
            .versions
            .iter()
            .any(|v| v.version == version && v.sources.iter().any(|s| !s.starts_with("AUR ")));
        let from_aur = match (&self.clone, elsewhere) {
            (Some(clone), false) => {
                self.aur
                    .iter()
                    .find(|(v, _)| v == version)
                    .map(|(_, commit)| AurCommit {
                        commit: commit.clone(),
                        clone: clone.clone(),
                    })
            }
            _ => None,
        };
        Choice {
            version: version.to_string(),
            from_aur,
        }
    }
}

/// The base's clone, brought up to date, and the versions of `name` its
/// history has.
fn aur_history(
    source: &AurSource,
    name: &str,
) -> Result<(std::path::PathBuf, Vec<crate::aur::history::PastVersion>), Failure> {
    let dir = crate::aur::build::fetch(&source.url, &source.base, &source.cache)
        .map_err(super::aur_build::build_failure)?;
    let past =
        crate::aur::history::past_versions(&dir, name).map_err(super::aur_build::build_failure)?;
    Ok((dir, past))
}

/// Builds `name` at `version` from `at`, a commit of its package base
/// (reviewed first, as every AUR build is); the package file made.
async fn build_at(
    session: &mut Session,
    name: &str,
    base: &str,
    version: &str,
    at: &AurCommit,
    args: &TxArgs,
) -> Result<String, Failure> {
    // As root nothing is built, nor the clone touched.
    crate::aur::build::refuse_root().map_err(super::aur_build::build_failure)?;
    let mut renderer = super::progress::Renderer::new(args.json);
    renderer.step(&format!(
        "{name} {version} is in the AUR's history of {base} (commit {}): building it",
        short(&at.commit)
    ));
    crate::aur::history::check_out(&at.clone, &at.commit)
        .map_err(super::aur_build::build_failure)?;
    let paths =
        crate::config::Paths::user().map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
    let config = crate::config::Config::load(&paths.config_dir).unwrap_or_default();
    let settings = super::aur_build::Settings {
        nodeps: session.other_database(),
        noconfirm: args.noconfirm,
        jobs: config.aur.build_jobs(),
        cache: paths.cache_dir.join("aur"),
    };
    let build = super::aur_build::Base {
        pkgbase: base.to_string(),
        version: version.to_string(),
        packages: vec![name.to_string()],
        dir: at.clone.clone(),
        facts: None,
    };
    let files = super::aur_build::build_one(session, &mut renderer, build, &settings).await?;
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
    aur: Option<&AurSource>,
    args: &TxArgs,
) -> Result<Option<Choice>, Failure> {
    let listing = Listing::gather(session, name, aur).await?;
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
                if aur.is_some() {
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
