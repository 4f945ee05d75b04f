//! The file family: which installed package owns a path (`omg owns`),
//! which files an installed package has (`omg files`), from the package
//! manager's own file lists, and which repository packages ship a command
//! or path (`omg provides`, command-not-found), from the file index in
//! omg's database. Paths are matched as strings: omgd never opens, reads
//! or resolves a path a client names.

use super::Engine;
use omg::ipc::protocol::{ErrorKind, ResponseBody, WireError};
use omg::model::{Owner, Ownership, PackageFiles, Provided, ProvidedBy};

/// At most this many paths in one `Owns`.
pub const MAX_PATHS: usize = 256;
/// At most this long, each (PATH_MAX).
pub const MAX_PATH_LEN: usize = 4096;

fn invalid(message: String) -> WireError {
    WireError::new(ErrorKind::InvalidRequest, message)
}

/// Refuses a list of `what` that is empty, longer than `MAX_PATHS`, or
/// holds an entry longer than `MAX_PATH_LEN` or that `valid` refuses
/// (named as not `a`).
fn check_list(
    list: &[String],
    what: &str,
    a: &str,
    valid: impl Fn(&str) -> bool,
) -> Result<(), WireError> {
    if list.is_empty() || list.len() > MAX_PATHS {
        return Err(invalid(format!(
            "name between 1 and {MAX_PATHS} {what} ({} given)",
            list.len()
        )));
    }
    match list.iter().find(|e| e.len() > MAX_PATH_LEN || !valid(e)) {
        Some(bad) => Err(invalid(format!(
            "{:?} is not {a}",
            omg::text::one_line(&bad.chars().take(80).collect::<String>())
        ))),
        None => Ok(()),
    }
}

impl Engine {
    pub(super) async fn owns(&self, paths: Vec<String>) -> Result<ResponseBody, WireError> {
        check_list(&paths, "paths", "an absolute path", |p| {
            p.starts_with('/') && !p.contains('\0')
        })?;
        let fingerprint = self.fingerprint()?;
        let owners = self.backend()?.owners(paths.clone(), &fingerprint).await?;
        let current = self.index().await?;
        let version = |name: &str| {
            current
                .index
                .find(name)
                .and_then(|p| p.installed_version.map(str::to_string))
                .unwrap_or_default()
        };
        let answer = paths
            .into_iter()
            .zip(owners)
            .map(|(path, names)| Ownership {
                path,
                owners: names
                    .into_iter()
                    .map(|name| Owner {
                        version: version(&name),
                        name,
                    })
                    .collect(),
            })
            .collect();
        Ok(ResponseBody::Owns(answer))
    }

    pub(super) async fn provides(
        &self,
        names: Vec<String>,
        ask_aur: bool,
    ) -> Result<ResponseBody, WireError> {
        check_list(
            &names,
            "commands or paths",
            "a command name or a path",
            |n| !n.is_empty() && !n.chars().any(char::is_control),
        )?;
        let current = self.index().await?;
        let backend = self.kind.as_str();
        let mut answer = Vec::with_capacity(names.len());
        for asked in names {
            let found = match &self.store {
                Some(store) => omg::provides::lookup(store, backend, &asked)
                    .map_err(|e| WireError::new(ErrorKind::Database, e.to_string()))?,
                None => Vec::new(),
            };
            let mut providers: Vec<ProvidedBy> = found
                .into_iter()
                .map(|p| {
                    let package = current.index.find(&p.name);
                    ProvidedBy {
                        version: package
                            .as_ref()
                            .map(|k| k.version.to_string())
                            .unwrap_or_default(),
                        repository: package
                            .as_ref()
                            .map(|k| k.repository.to_string())
                            .unwrap_or_default(),
                        installed: package.as_ref().is_some_and(|k| k.is_installed()),
                        name: p.name,
                        path: p.path,
                    }
                })
                .collect();
            if providers.is_empty() && !asked.contains('/') {
                providers = self.aur_providers(&asked, ask_aur, &current.index).await;
            }
            answer.push(Provided { asked, providers });
        }
        Ok(ResponseBody::Provides(answer))
    }

    /// The AUR packages providing the command `name` (by name or
    /// `provides`): asked with `ask`, else as last heard; nothing when the
    /// AUR is off or does not answer.
    async fn aur_providers(
        &self,
        name: &str,
        ask: bool,
        index: &omg::index::Index,
    ) -> Vec<ProvidedBy> {
        let Some(aur) = &self.aur else {
            return Vec::new();
        };
        let found = if ask {
            aur.providers(name).await.ok()
        } else {
            aur.known_providers(name)
        };
        found
            .map(|list| {
                list.iter()
                    .take(10)
                    .map(|p| ProvidedBy {
                        name: p.name.clone(),
                        path: String::new(),
                        version: p.version.clone(),
                        repository: "aur".into(),
                        installed: index.find(&p.name).is_some_and(|k| k.is_installed()),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(super) async fn files(&self, name: String) -> Result<ResponseBody, WireError> {
        if name.is_empty()
            || name.len() > 256
            || name
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '/')
        {
            return Err(invalid(format!(
                "{:?} is not a package name",
                omg::text::one_line(&name.chars().take(80).collect::<String>())
            )));
        }
        let fingerprint = self.fingerprint()?;
        let installed = self.backend()?.files(name.clone(), &fingerprint).await?;
        let current = self.index().await?;
        let package = current.index.find(&name);
        let (files, version) = match installed {
            Some(files) => (
                files,
                package
                    .as_ref()
                    .and_then(|p| p.installed_version)
                    .unwrap_or_default(),
            ),
            // Not installed: the repository package's list, from the file
            // index the refresh worker keeps.
            None => {
                let indexed = match &self.store {
                    Some(store) => omg::provides::files_of(store, self.kind.as_str(), &name)
                        .map_err(|e| WireError::new(ErrorKind::Database, e.to_string()))?,
                    None => None,
                };
                let Some(files) = indexed else {
                    return Err(WireError::new(
                        ErrorKind::NotFound,
                        format!(
                            "{name} is not installed, and the file index has no list of it (omgd work refresh builds it)"
                        ),
                    ));
                };
                (
                    files,
                    package.as_ref().map(|p| p.version).unwrap_or_default(),
                )
            }
        };
        let version = version.to_string();
        Ok(ResponseBody::Files(PackageFiles {
            name,
            version,
            files,
        }))
    }
}
