//! Marking what a request asks for in apt's depcache: install targets
//! (names, `name=version`, `name/release`, virtual names, `.deb` files)
//! and remove targets (with `--recursive`, `--cascade`, `--purge`), and
//! saying which dependencies cannot be met.

use rust_apt::{Cache, Package, Version};

use omg::transaction::{Level, Question, Resolved, TransactionRequest, TxChannel, TxError};

/// The unmet dependencies of the packages the marks leave broken, as apt
/// words them.
pub(super) fn unmet(cache: &Cache) -> Vec<String> {
    cache
        .packages(&rust_apt::PackageSort::default())
        .filter(|pkg| pkg.is_inst_broken())
        .flat_map(|pkg| unmet_of(&pkg))
        .collect()
}

/// Why `pkg`'s candidate cannot be installed: its dependencies nothing
/// can satisfy.
fn unmet_of(pkg: &Package<'_>) -> Vec<String> {
    let Some(candidate) = pkg.candidate() else {
        return vec![format!(
            "package {} has no installation candidate",
            pkg.name()
        )];
    };
    let mut lines = Vec::new();
    for dep in candidate.dependencies().unwrap_or_default() {
        if dep.iter().any(|base| !base.all_targets().is_empty()) {
            continue;
        }
        let names: Vec<String> = dep
            .iter()
            .map(|b| match b.version() {
                Some(v) => format!("{} ({} {v})", b.name(), b.comp_type().unwrap_or("=")),
                None => b.name().to_string(),
            })
            .collect();
        lines.push(format!(
            "{}: {}: {} but it is not installable",
            pkg.name(),
            dep.dep_type().to_str(),
            names.join(" | ")
        ));
    }
    if lines.is_empty() {
        lines.push(format!("{} has unmet dependencies", pkg.name()));
    }
    lines
}

/// Marks the install targets: names (`name`, `name=version`,
/// `name/release`), virtual names (the provider: asked when several),
/// and `.deb` files. Says whether a manual/automatic mark changed.
pub(super) fn mark_install(
    cache: &Cache,
    targets: &[String],
    request: &TransactionRequest,
    channel: &TxChannel,
) -> Result<bool, TxError> {
    let options = &request.options;
    let mut missing = Vec::new();
    let mut marks_changed = false;
    for target in targets {
        let Some((pkg, version)) = find_target(cache, target, channel)? else {
            missing.push(target.clone());
            continue;
        };
        if let Some(version) = &version {
            version.set_candidate();
        }
        let candidate = pkg.candidate();
        let current = pkg.installed();
        let same =
            matches!((&current, &candidate), (Some(c), Some(n)) if c.version() == n.version());
        if same && options.upgrade_only {
            continue;
        }
        if same {
            let v = current.as_ref().map(|v| v.version().to_string());
            if pkg.is_auto_installed() != options.as_deps {
                pkg.mark_auto(options.as_deps);
                marks_changed = true;
                if !options.as_deps {
                    channel.message(
                        Level::Info,
                        format!("{} set to manually installed", pkg.name()),
                    );
                }
            }
            if options.needed || !options.as_explicit {
                channel.message(
                    Level::Info,
                    format!(
                        "{} is already the newest version ({})",
                        pkg.name(),
                        v.unwrap_or_default()
                    ),
                );
                continue;
            }
        }
        if candidate.is_none() {
            return Err(TxError::Prepare {
                reason: "a target cannot be installed".into(),
                details: vec![format!(
                    "package {} has no installation candidate",
                    pkg.name()
                )],
            });
        }
        if options.upgrade_only && current.is_none() {
            channel.message(
                Level::Warning,
                format!("{} is not installed, so not upgraded", pkg.name()),
            );
            continue;
        }
        let was_auto = pkg.is_auto_installed();
        pkg.mark_install(true, true);
        if !pkg.marked_install() {
            return Err(TxError::Prepare {
                reason: "unable to satisfy dependencies".into(),
                details: unmet_of(&pkg),
            });
        }
        pkg.protect();
        if options.upgrade_only {
            // An upgrade, not a request: the package stays as it was
            // installed.
            pkg.mark_auto(was_auto);
        } else if options.as_deps {
            pkg.mark_auto(true);
        } else if options.as_explicit {
            pkg.mark_auto(false);
        }
    }
    if !missing.is_empty() {
        return Err(TxError::NotFound {
            targets: missing,
            suggestions: Vec::new(),
        });
    }
    Ok(marks_changed)
}

/// The package (and chosen version) a target names, if any.
fn find_target<'a>(
    cache: &'a Cache,
    target: &str,
    channel: &TxChannel,
) -> Result<Option<(Package<'a>, Option<Version<'a>>)>, TxError> {
    if target.ends_with(".deb") {
        let path = std::fs::canonicalize(target).unwrap_or_else(|_| target.into());
        let path = path.to_string_lossy();
        // The local file is a version whose package file is that path.
        for pkg in cache.packages(&rust_apt::PackageSort::default()) {
            for version in pkg.versions() {
                if version
                    .package_files()
                    .any(|f| f.filename().is_some_and(|n| n == path || n == target))
                {
                    return Ok(Some((pkg, Some(version))));
                }
            }
        }
        return Ok(None);
    }
    let (name, version, release) = if let Some((n, v)) = target.split_once('=') {
        (n, Some(v), None)
    } else if let Some((n, r)) = target.split_once('/') {
        (n, None, Some(r))
    } else {
        (target, None, None)
    };
    let Some(pkg) = cache.get(name) else {
        return Ok(None);
    };
    if let Some(wanted) = version {
        return Ok(pkg.get_version(wanted).map(|v| (pkg, Some(v))));
    }
    if let Some(release) = release {
        let chosen = pkg.versions().find(|v| {
            v.package_files().any(|f| {
                f.archive().is_some_and(|a| a == release)
                    || f.codename().is_some_and(|c| c == release)
            })
        });
        return Ok(chosen.map(|v| (pkg, Some(v))));
    }
    if pkg.has_versions() {
        return Ok(Some((pkg, None)));
    }
    // A virtual package: one of the packages that provide it.
    let mut providers: Vec<Package<'a>> = pkg.provides().map(|p| p.package()).collect();
    providers.sort_by(|a, b| a.name().cmp(b.name()));
    providers.dedup_by(|a, b| a.name() == b.name());
    match providers.len() {
        0 => Ok(None),
        1 => Ok(providers.pop().map(|p| (p, None))),
        _ => {
            let options: Vec<String> = providers.iter().map(|p| p.name().to_string()).collect();
            let question = Question::Choose {
                prompt: format!(
                    "There are {} providers available for {name}:",
                    options.len()
                ),
                options,
                default: 0,
            };
            match channel.ask(question) {
                Resolved::One(i) if i < providers.len() => {
                    Ok(Some((providers.swap_remove(i), None)))
                }
                _ => Err(TxError::Aborted),
            }
        }
    }
}

pub(super) fn mark_remove(
    cache: &Cache,
    targets: &[String],
    request: &TransactionRequest,
    channel: &TxChannel,
) -> Result<(), TxError> {
    let mut missing = Vec::new();
    for target in targets {
        match cache.get(target) {
            Some(pkg) if pkg.is_installed() => {
                if pkg.is_essential() {
                    let ok = channel.confirm(
                        format!(
                            "{} is an essential package: removing it can break the system. Remove it anyway?",
                            pkg.name()
                        ),
                        false,
                    );
                    if !ok {
                        return Err(TxError::Aborted);
                    }
                }
                pkg.mark_delete(request.options.purge);
                pkg.protect();
            }
            Some(pkg) if request.options.purge && pkg_has_config(&pkg) => {
                pkg.mark_delete(true);
            }
            Some(pkg) if pkg.has_versions() => channel.message(
                Level::Warning,
                format!("package {} is not installed, so not removed", pkg.name()),
            ),
            _ => missing.push(target.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(TxError::NotFound {
            targets: missing,
            suggestions: Vec::new(),
        });
    }
    Ok(())
}

/// Removed, but its configuration files are still there (`rc`).
fn pkg_has_config(pkg: &Package<'_>) -> bool {
    pkg.current_state() == rust_apt::PkgCurrentState::ConfigFiles
}
