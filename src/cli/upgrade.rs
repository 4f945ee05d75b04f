//! `omg upgrade`: refresh, then upgrade every package (repositories and,
//! on Arch, the AUR), or with `--security` only the updates that fix
//! known vulnerabilities, or with `--all` the runtimes too
//! (`upgrade_all`).

use clap::Args;

use super::aur::{self, AurOptions};
use super::{Failure, Session, TxArgs, outdated};
use crate::transaction::TransactionOptions;

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// AUR: remove the repository packages needed only to build, afterwards
    #[arg(long)]
    pub removemake: bool,
    /// AUR: also rebuild VCS packages (-git, …) whose upstream has new commits
    #[arg(long)]
    pub devel: bool,
    /// Only download into the package cache, install nothing
    ///
    /// apt's archive cache, pacman's CacheDir (pacman -Swu).
    #[arg(long)]
    pub download_only: bool,
    /// Only the updates that fix known vulnerabilities (omg outdated
    /// --security lists them), with what they need
    #[arg(long, conflicts_with_all = ["devel", "removemake"])]
    pub security: bool,
    /// Everything at once: the repositories, the AUR, VCS packages and the
    /// runtimes (within each installed version's line, and the versions
    /// the project here asks for)
    ///
    /// One plan in sections, the updates that fix known vulnerabilities
    /// first, asked about once; recorded as one history group that omg
    /// rollback undoes as a unit.
    #[arg(long, conflicts_with_all = ["security", "download_only"])]
    pub all: bool,
    #[command(flatten)]
    pub tx: TxArgs,
}

pub async fn run(session: &mut Session, args: &UpgradeArgs) -> Result<u8, Failure> {
    let options = TransactionOptions {
        download_only: args.download_only,
        ..TransactionOptions::default()
    };
    if args.security {
        return outdated::upgrade_security(session, options, &args.tx).await;
    }
    if args.all {
        return super::upgrade_all::run(session, &args.tx, args.removemake).await;
    }
    let extra = AurOptions {
        remove_make: args.removemake,
        devel: args.devel,
    };
    aur::upgrade(session, options, &args.tx, &extra).await
}
