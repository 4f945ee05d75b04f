//! `omg owns PATH…` (which installed package owns a file, as `pacman -Qo`
//! and `dpkg -S`), `omg files PKG` (an installed package's files, as
//! `pacman -Ql` and `dpkg -L`) and `omg provides NAME|PATH…` (which
//! repository packages ship a command or file, as `pacman -F` and
//! `apt-file search`). Paths are made absolute here, as the user:
//! a bare command name is looked up on PATH, symbolic links are resolved,
//! and on a merged-/usr system `/bin/x` and `/usr/bin/x` are asked both,
//! since dpkg's lists may name either. omgd only matches the strings.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::output::{NAME, VERSION};
use super::{EXIT_FAILURE, EXIT_OK, Failure, Session, print_json, unexpected};
use crate::ipc::protocol::{RequestBody, ResponseBody};
use crate::model::{Owner, Ownership};

#[derive(Debug, Args)]
pub struct OwnsArgs {
    /// Files, directories or command names (looked up on PATH)
    #[arg(required = true, num_args = 1..)]
    pub paths: Vec<String>,
    /// Print JSON: one object per path, with its owners
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ProvidesArgs {
    /// Command names or absolute paths
    #[arg(required = true, num_args = 1..)]
    pub names: Vec<String>,
    /// Print JSON: one object per name, with the packages shipping it
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FilesArgs {
    /// A package: installed, or in the file index
    pub package: String,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// The directories merged into /usr (`/bin` → `usr/bin`, …).
const MERGED: &[&str] = &["bin", "sbin", "lib", "lib32", "lib64", "libx32"];

/// The program `name` runs, as the shell finds it on PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The other spelling of `path` on a merged-/usr system (`/bin/ls` and
/// `/usr/bin/ls`), when there is one.
fn merged_alias(path: &str) -> Option<String> {
    for dir in MERGED {
        let merged = Path::new("/").join(dir);
        let is_link = std::fs::read_link(&merged).is_ok();
        if !is_link {
            continue;
        }
        if let Some(rest) = path.strip_prefix(&format!("/usr/{dir}/")) {
            return Some(format!("/{dir}/{rest}"));
        }
        if let Some(rest) = path.strip_prefix(&format!("/{dir}/")) {
            return Some(format!("/usr/{dir}/{rest}"));
        }
    }
    None
}

/// The path `arg` names, absolute, and the other spellings of it to ask.
fn spellings(arg: &str) -> (String, Vec<String>) {
    let given = if arg.contains('/') {
        PathBuf::from(arg)
    } else {
        on_path(arg).unwrap_or_else(|| PathBuf::from(arg))
    };
    let absolute = std::path::absolute(&given).unwrap_or(given);
    let shown = absolute.to_string_lossy().into_owned();
    let mut asked = vec![shown.clone()];
    if let Ok(real) = std::fs::canonicalize(&absolute) {
        asked.push(real.to_string_lossy().into_owned());
    }
    let aliases: Vec<String> = asked.iter().filter_map(|p| merged_alias(p)).collect();
    asked.extend(aliases);
    let mut unique = Vec::new();
    for a in asked {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    (shown, unique)
}

pub async fn owns(session: &mut Session, args: &OwnsArgs) -> Result<u8, Failure> {
    let asked: Vec<(String, Vec<String>)> = args.paths.iter().map(|a| spellings(a)).collect();
    let mut paths: Vec<String> = Vec::new();
    for (_, spellings) in &asked {
        for s in spellings {
            if !paths.contains(s) {
                paths.push(s.clone());
            }
        }
    }
    let ResponseBody::Owns(found) = session
        .request(RequestBody::Owns {
            paths: paths.clone(),
        })
        .await?
    else {
        return Err(unexpected());
    };
    let answers: Vec<Ownership> = asked
        .into_iter()
        .map(|(shown, spellings)| {
            let mut owners: Vec<Owner> = Vec::new();
            for o in found
                .iter()
                .filter(|f| spellings.contains(&f.path))
                .flat_map(|f| f.owners.iter())
            {
                if !owners.contains(o) {
                    owners.push(o.clone());
                }
            }
            Ownership {
                path: shown,
                owners,
            }
        })
        .collect();
    let unowned = answers.iter().any(|a| a.owners.is_empty());
    if args.json {
        print_json(&answers)?;
    } else {
        let mut out = anstream::stdout().lock();
        for answer in &answers {
            if answer.owners.is_empty() {
                let exists = Path::new(&answer.path).symlink_metadata().is_ok();
                super::report(&Failure::new(
                    if exists {
                        format!("no package owns {}", answer.path)
                    } else {
                        format!(
                            "no package owns {} (and there is no such file)",
                            answer.path
                        )
                    },
                    EXIT_FAILURE,
                ));
                continue;
            }
            let owners: Vec<String> = answer
                .owners
                .iter()
                .map(|o| {
                    format!(
                        "{}{}{} {}{}{}",
                        NAME.render(),
                        o.name,
                        NAME.render_reset(),
                        VERSION.render(),
                        o.version,
                        VERSION.render_reset()
                    )
                })
                .collect();
            writeln!(out, "{} is owned by {}", answer.path, owners.join(", "))?;
        }
    }
    Ok(if unowned { EXIT_FAILURE } else { EXIT_OK })
}

pub async fn provides(session: &mut Session, args: &ProvidesArgs) -> Result<u8, Failure> {
    let ResponseBody::Provides(found) = session
        .request(RequestBody::Provides {
            names: args.names.clone(),
            ask_aur: true,
        })
        .await?
    else {
        return Err(unexpected());
    };
    let unknown = found.iter().any(|f| f.providers.is_empty());
    if args.json {
        print_json(&found)?;
        return Ok(if unknown { EXIT_FAILURE } else { EXIT_OK });
    }
    let mut out = anstream::stdout().lock();
    for provided in &found {
        if provided.providers.is_empty() {
            super::report(&Failure::new(
                format!(
                    "no repository package is known to ship {} (the file index comes with omg sync's refresh: omgd work refresh)",
                    provided.asked
                ),
                EXIT_FAILURE,
            ));
            continue;
        }
        for p in &provided.providers {
            let installed = if p.installed { " [installed]" } else { "" };
            // The AUR publishes no file lists: what matched is the name.
            let path = if p.path.is_empty() {
                format!("provides {}", provided.asked)
            } else {
                p.path.clone()
            };
            writeln!(
                out,
                "{}{}{} {}{}{} ({}){installed}: {}",
                NAME.render(),
                p.name,
                NAME.render_reset(),
                VERSION.render(),
                p.version,
                VERSION.render_reset(),
                p.repository,
                path
            )?;
        }
    }
    Ok(if unknown { EXIT_FAILURE } else { EXIT_OK })
}

pub async fn files(session: &mut Session, args: &FilesArgs) -> Result<u8, Failure> {
    let ResponseBody::Files(listed) = session
        .request(RequestBody::Files {
            name: args.package.clone(),
        })
        .await?
    else {
        return Err(unexpected());
    };
    if args.json {
        print_json(&listed)?;
        return Ok(EXIT_OK);
    }
    let mut out = super::output::Answer::new();
    for file in &listed.files {
        writeln!(out, "{file}")?;
    }
    out.finish()?;
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_asked_in_every_spelling_it_has() {
        let (shown, asked) = spellings("/nonexistent/dir/../file");
        assert_eq!(shown, "/nonexistent/dir/../file");
        assert_eq!(asked, ["/nonexistent/dir/../file"]);
        // A command name is found on PATH.
        let (shown, _) = spellings("sh");
        assert!(shown.starts_with('/') && shown.ends_with("/sh"), "{shown}");
        if std::fs::read_link("/bin").is_ok() {
            assert_eq!(merged_alias("/usr/bin/ls").as_deref(), Some("/bin/ls"));
            assert_eq!(merged_alias("/bin/ls").as_deref(), Some("/usr/bin/ls"));
        }
        assert_eq!(merged_alias("/etc/passwd"), None);
    }
}
