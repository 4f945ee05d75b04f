//! `omg sync`: refresh the repository databases (package lists), asking
//! nothing.

use clap::Args;

use super::{Failure, Session, TxArgs, transaction};
use crate::transaction::{TransactionAction, TransactionOptions};

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Download the databases even when they are up to date
    #[arg(short, long)]
    pub force: bool,
    /// Print the outcome as JSON (progress goes to stderr)
    #[arg(long)]
    pub json: bool,
}

pub async fn run(session: &Session, args: &SyncArgs) -> Result<u8, Failure> {
    let action = TransactionAction::Sync { force: args.force };
    let tx = TxArgs {
        noconfirm: true,
        dry_run: false,
        json: args.json,
    };
    transaction::run(session, action, TransactionOptions::default(), &tx).await
}
