//! `omg remove`: installed packages (or groups), with what depends on them
//! (`--cascade`), the dependencies nothing else needs (`--recursive`), and
//! on Debian their configuration (`--purge`).

use clap::Args;

use super::{Failure, Session, TxArgs, transaction};
use crate::transaction::{TransactionAction, TransactionOptions};

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Installed packages or groups
    #[arg(required = true, num_args = 1..)]
    pub targets: Vec<String>,
    /// Also remove dependencies nothing else needs (pacman -Rs)
    #[arg(short, long)]
    pub recursive: bool,
    /// Also remove the packages that depend on the targets (pacman -Rc)
    #[arg(short, long)]
    pub cascade: bool,
    /// Also remove the configuration files (apt purge; pacman -Rn keeps no .pacsave)
    #[arg(long)]
    pub purge: bool,
    #[command(flatten)]
    pub tx: TxArgs,
}

pub async fn run(session: &Session, args: &RemoveArgs) -> Result<u8, Failure> {
    let action = TransactionAction::Remove {
        targets: args.targets.clone(),
    };
    let options = TransactionOptions {
        recursive: args.recursive,
        cascade: args.cascade,
        purge: args.purge,
        ..TransactionOptions::default()
    };
    transaction::run(session, action, options, &args.tx).await
}
