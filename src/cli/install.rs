//! `omg install`: runtimes (`node@20`, `python 3.12`) through the user's
//! own omgd, runtimes omg does not manage through mise, everything else
//! through the repositories and the AUR; `-i` searches and lets the user
//! pick.

use clap::Args;

use super::aur::{self, AurOptions};
use super::{Failure, Session, TxArgs, pick, runtime};
use crate::ipc::protocol::Sources;
use crate::transaction::TransactionOptions;

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// What to install
    #[arg(required = true, num_args = 1..)]
    pub targets: Vec<String>,
    /// Mark the packages as installed as dependencies
    #[arg(long, conflicts_with = "asexplicit")]
    pub asdeps: bool,
    /// Mark the packages as installed explicitly
    #[arg(long)]
    pub asexplicit: bool,
    /// Skip targets that are installed at the same version
    #[arg(long)]
    pub needed: bool,
    /// Refresh the repository databases first
    #[arg(long)]
    pub refresh: bool,
    /// Runtimes: install without checksums and signatures
    #[arg(long)]
    pub insecure: bool,
    /// AUR: remove the repository packages needed only to build, afterwards
    #[arg(long)]
    pub removemake: bool,
    /// Only download into the package cache, install nothing
    ///
    /// apt's archive cache, pacman's CacheDir (pacman -Sw).
    #[arg(long)]
    pub download_only: bool,
    /// Install even what policy.toml forbids (recorded in the audit log)
    #[arg(long)]
    pub override_policy: bool,
    /// Search for the words given and install the results chosen
    ///
    /// The results are numbered; answer 1 2 3, 1-3 or ^4.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    #[command(flatten)]
    pub tx: TxArgs,
}

impl InstallArgs {
    /// The transaction's and the AUR build's options these flags ask for.
    fn options(&self) -> (TransactionOptions, AurOptions) {
        let options = TransactionOptions {
            as_deps: self.asdeps,
            as_explicit: self.asexplicit,
            needed: self.needed,
            refresh: self.refresh,
            download_only: self.download_only,
            override_policy: self.override_policy,
            ..TransactionOptions::default()
        };
        let extra = AurOptions {
            remove_make: self.removemake,
            devel: false,
        };
        (options, extra)
    }
}

pub async fn run(session: &mut Session, args: &InstallArgs) -> Result<u8, Failure> {
    let (options, extra) = args.options();
    if args.interactive {
        let query = args.targets.join(" ");
        return pick::run(session, &query, Sources::All, options, &args.tx, &extra).await;
    }
    if let Some((name, version)) = runtime::foreign_runtime(&args.targets) {
        return runtime::mise_install(&name, &version);
    }
    if let Some((which, version)) = runtime::runtime_target(&args.targets) {
        return runtime::run_install(session, which, &version, args.insecure).await;
    }
    aur::install(session, args.targets.clone(), options, &args.tx, &extra).await
}
