//! `omg clean [--orphans] [--cache [--keep N]] [--aur]` (all three without
//! a flag): remove orphaned dependencies (and what only they needed, as
//! `pacman -Rns $(pacman -Qdtq)` or apt's autoremove), prune the package
//! cache to the newest versions of each package (as `paccache -rk N`; the
//! installed version always stays, for rollbacks), and clear AUR build
//! directories (clones of bases nothing installed comes from; built
//! packages and makepkg's work directories of the rest).

use std::path::Path;

use clap::Args;

use super::{EXIT_FAILURE, EXIT_OK, Failure, Session, TxArgs, print_json, unexpected};
use crate::ipc::protocol::{RequestBody, ResponseBody};
use crate::transaction::{Maintenance, TransactionAction, TransactionOptions};

#[derive(Debug, Args)]
pub struct CleanArgs {
    /// Dependencies nothing needs any more, and what only they needed
    #[arg(long)]
    pub orphans: bool,
    /// Old package files in the cache
    ///
    /// All but the newest versions of each package (--keep) and the
    /// installed one.
    #[arg(long)]
    pub cache: bool,
    /// How many versions of each package the cache keeps
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub keep: u32,
    /// AUR build leftovers
    ///
    /// Clones of bases nothing installed comes from, and the built packages
    /// and work directories of the rest.
    #[arg(long)]
    pub aur: bool,
    #[command(flatten)]
    pub tx: TxArgs,
}

pub async fn run(session: &mut Session, what: &CleanArgs) -> Result<u8, Failure> {
    let args = &what.tx;
    let all = !what.orphans && !what.cache && !what.aur;
    let mut summary = serde_json::Map::new();
    let quiet = TxArgs {
        noconfirm: args.noconfirm,
        dry_run: args.dry_run,
        json: args.json,
    };
    if all || what.orphans {
        let graph = match session.request(RequestBody::Graph).await? {
            ResponseBody::Graph(nodes) => crate::graph::Graph::new(nodes),
            _ => return Err(unexpected()),
        };
        let orphans: Vec<String> = graph.orphans().iter().map(|n| n.name.clone()).collect();
        if orphans.is_empty() {
            if !args.json {
                println!("no orphaned dependencies");
            }
            summary.insert("orphans".into(), serde_json::json!([]));
        } else {
            let options = TransactionOptions {
                recursive: true,
                ..TransactionOptions::default()
            };
            let report = super::transaction::run_report(
                session,
                TransactionAction::Remove { targets: orphans },
                options,
                &quiet,
            )
            .await?;
            summary.insert(
                "orphans".into(),
                serde_json::to_value(&report.changes).unwrap_or_default(),
            );
        }
    }
    if all || what.cache {
        let task = Maintenance::CleanCache { keep: what.keep };
        let report = super::transaction::maintain(session, task, &quiet).await?;
        if !args.json && !report.cleaned.is_empty() {
            let verb = if report.committed {
                "removed"
            } else {
                "would remove"
            };
            println!(
                "package cache: {verb} {} file{}, {}",
                report.cleaned.len(),
                if report.cleaned.len() == 1 { "" } else { "s" },
                super::output::human_size(report.freed)
            );
        }
        summary.insert(
            "cache".into(),
            serde_json::json!({ "cleaned": report.cleaned, "freed": report.freed, "committed": report.committed }),
        );
    }
    if all || what.aur {
        let installed: Vec<String> = match session
            .request(RequestBody::List {
                filter: crate::model::ListFilter::All,
            })
            .await?
        {
            ResponseBody::List(list) => list.into_iter().map(|p| p.name).collect(),
            _ => return Err(unexpected()),
        };
        let dir = crate::config::Paths::user()
            .map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?
            .cache_dir
            .join("aur");
        let (removed, freed) = clean_aur(&dir, &installed, args.dry_run)
            .map_err(|e| Failure::new(format!("{}: {e}", dir.display()), EXIT_FAILURE))?;
        if !args.json {
            let verb = if args.dry_run {
                "would remove"
            } else {
                "removed"
            };
            if removed.is_empty() {
                println!("AUR builds: nothing to remove");
            } else {
                println!(
                    "AUR builds: {verb} {} ({})",
                    removed.len(),
                    super::output::human_size(freed)
                );
            }
        }
        summary.insert(
            "aur".into(),
            serde_json::json!({ "removed": removed, "freed": freed }),
        );
    }
    if args.json {
        print_json(&summary)?;
    }
    Ok(EXIT_OK)
}

/// Bytes under `path`.
fn size_of(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.is_dir() {
        std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| size_of(&e.path()))
            .sum()
    } else {
        meta.len()
    }
}

/// The package names a base's `.SRCINFO` lists.
fn base_packages(base: &Path) -> Vec<String> {
    std::fs::read_to_string(base.join(".SRCINFO"))
        .map(|text| {
            text.lines()
                .filter_map(|l| l.trim().strip_prefix("pkgname = "))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Clears the AUR build directory: whole clones of bases none of whose
/// packages is installed; built packages and `src/`, `pkg/` of the rest
/// (their clones stay, so the next build shows only what changed).
fn clean_aur(
    dir: &Path,
    installed: &[String],
    dry_run: bool,
) -> std::io::Result<(Vec<String>, u64)> {
    let mut removed = Vec::new();
    let mut freed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((removed, 0)),
        Err(e) => return Err(e),
    };
    for entry in entries.flatten() {
        let base = entry.path();
        if !base.is_dir() || base.is_symlink() {
            continue;
        }
        let packages = base_packages(&base);
        let doomed: Vec<std::path::PathBuf> = if packages.iter().any(|p| installed.contains(p)) {
            std::fs::read_dir(&base)?
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    name.contains(".pkg.tar") || ((name == "src" || name == "pkg") && p.is_dir())
                })
                .collect()
        } else {
            vec![base.clone()]
        };
        for path in doomed {
            freed += size_of(&path);
            if !dry_run {
                if path.is_dir() {
                    std::fs::remove_dir_all(&path)?;
                } else {
                    std::fs::remove_file(&path)?;
                }
            }
            removed.push(path.display().to_string());
        }
    }
    Ok((removed, freed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aur_builds_of_installed_packages_keep_their_clones() {
        let dir = tempfile::tempdir().unwrap();
        let kept = dir.path().join("kept");
        let gone = dir.path().join("gone");
        for (base, name) in [(&kept, "kept-tool"), (&gone, "gone-tool")] {
            std::fs::create_dir_all(base.join("src/x")).unwrap();
            std::fs::write(
                base.join(".SRCINFO"),
                format!("pkgbase = b\n\tpkgver = 1\n\npkgname = {name}\n"),
            )
            .unwrap();
            std::fs::write(base.join("PKGBUILD"), "pkgname=x\n").unwrap();
            std::fs::write(
                base.join(format!("{name}-1-1-any.pkg.tar.zst")),
                vec![0u8; 100],
            )
            .unwrap();
        }
        let (removed, freed) = clean_aur(dir.path(), &["kept-tool".into()], true).unwrap();
        assert_eq!(removed.len(), 3, "{removed:?}");
        assert!(freed >= 200);
        assert!(gone.exists(), "a dry run removes nothing");
        clean_aur(dir.path(), &["kept-tool".into()], false).unwrap();
        assert!(!gone.exists());
        assert!(kept.join("PKGBUILD").exists());
        assert!(!kept.join("src").exists());
        assert!(!kept.join("kept-tool-1-1-any.pkg.tar.zst").exists());
    }
}
