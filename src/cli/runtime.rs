//! `omg install RUNTIME VERSION` and `omg use [--local] RUNTIME VERSION`:
//! the install runs in this user's omgd (which downloads and verifies);
//! `--local` writes the choice into the project's `.tool-versions`.

use super::progress::Renderer;
use super::transaction::stream;
use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Failure, Session, unexpected};

use crate::ipc::protocol::{RequestBody, ResponseBody, RuntimeInstallRequest};
use crate::runtime::version_file::Runtime;
use clap::Args;

#[derive(Debug, Args)]
pub struct UseArgs {
    /// Write the choice into this directory's version file instead of
    /// the default
    #[arg(long)]
    pub local: bool,
    /// node, python, go, rust, ruby, java or bun (others go to mise)
    pub runtime: String,
    /// A version, a partial version or an alias (lts, lts/iron, latest)
    pub version: String,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    pub runtime: String,
    pub version: String,
}

#[derive(Debug, Args)]
pub struct WhichArgs {
    pub program: String,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// RUNTIME@VERSION
    pub spec: String,
    /// The command and its arguments
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

/// `omg use RUNTIME VERSION [--local]`; runtimes omg does not manage go
/// to mise.
pub async fn use_command(session: &Session, args: &UseArgs) -> Result<u8, Failure> {
    match Runtime::from_name(&args.runtime) {
        Some(which) => run_use(session, which, &args.version, args.local).await,
        None => mise_fallback(&args.runtime, &args.version, args.local),
    }
}

/// `omg uninstall RUNTIME VERSION`.
pub fn uninstall_command(args: &UninstallArgs) -> Result<u8, Failure> {
    match Runtime::from_name(&args.runtime) {
        Some(which) => run_uninstall(which, &args.version),
        None => Err(Failure::new(
            format!("{} is not a runtime omg knows", args.runtime),
            EXIT_USAGE,
        )),
    }
}

/// `node 20`, `node@20`, `python 3.12`: a runtime and a version request,
/// if that is what `targets` are.
pub fn runtime_target(targets: &[String]) -> Option<(Runtime, String)> {
    let looks_like_version = |v: &str| {
        let v = v.strip_prefix('v').unwrap_or(v);
        v.starts_with(|c: char| c.is_ascii_digit())
            || ["latest", "lts", "current", "stable", "node"].contains(&v)
            || v.starts_with("lts/")
    };
    match targets {
        [one] => {
            let (name, version) = one.split_once('@')?;
            Some((Runtime::from_name(name)?, version.to_string()))
        }
        [name, version] if looks_like_version(version) => {
            Some((Runtime::from_name(name)?, version.clone()))
        }
        _ => None,
    }
}

/// Installs (and with `make_current`, switches to) a runtime version.
pub async fn install(
    session: &Session,
    runtime: Runtime,
    request: &str,
    make_current: bool,
    insecure: bool,
) -> Result<(String, String), Failure> {
    install_in_group(
        session,
        runtime,
        request,
        make_current,
        insecure,
        None,
        false,
    )
    .await
}

/// The same, recorded in the history as part of `group`.
pub async fn install_in_group(
    session: &Session,
    runtime: Runtime,
    request: &str,
    make_current: bool,
    insecure: bool,
    group: Option<&str>,
    json: bool,
) -> Result<(String, String), Failure> {
    // The full omgd: downloads and signatures live there.
    let mut connection = session.own_daemon().await?;
    let mut renderer = Renderer::new(json);
    let (components, targets) = match runtime {
        Runtime::Rust => super::rustup::project_extras(request),
        _ => (Vec::new(), Vec::new()),
    };
    let body = RequestBody::RuntimeInstall(RuntimeInstallRequest {
        runtime: runtime.as_str().into(),
        request: request.into(),
        insecure,
        make_current,
        components,
        targets,
        group: group.map(str::to_string),
    });
    let answer = stream(&mut connection, &mut renderer, body).await;
    renderer.settle();
    connection.close().await;
    match answer? {
        ResponseBody::RuntimeInstalled { version, path, .. } => Ok((version, path)),
        _ => Err(unexpected()),
    }
}

pub async fn run_install(
    session: &Session,
    runtime: Runtime,
    request: &str,
    insecure: bool,
) -> Result<u8, Failure> {
    if let (Runtime::Rust, Some(rustup)) = (runtime, super::rustup::delegate()) {
        return super::rustup::install(&rustup, request);
    }
    let (version, path) = install(session, runtime, request, false, insecure).await?;
    println!("{} {version} is installed in {path}", runtime.as_str());
    Ok(EXIT_OK)
}

/// `omg use`: install if needed, then make it the version in use.
pub async fn run_use(
    session: &Session,
    runtime: Runtime,
    request: &str,
    local: bool,
) -> Result<u8, Failure> {
    let rustup = match runtime {
        Runtime::Rust => super::rustup::delegate(),
        _ => None,
    };
    let version = match &rustup {
        Some(rustup) if local => super::rustup::install(rustup, request).and_then(|code| {
            (code == EXIT_OK)
                .then(|| request.to_string())
                .ok_or_else(|| Failure::new("rustup failed", EXIT_FAILURE))
        })?,
        Some(rustup) => return super::rustup::use_default(rustup, request),
        None => install(session, runtime, request, !local, false).await?.0,
    };
    if local {
        let here = std::env::current_dir().map_err(|e| {
            Failure::new(
                format!("cannot tell the current directory: {e}"),
                EXIT_FAILURE,
            )
        })?;
        // rustup and cargo read rust-toolchain.toml, not .tool-versions.
        let file = match runtime {
            Runtime::Rust => here.join("rust-toolchain.toml"),
            _ => here.join(".tool-versions"),
        };
        let written = match runtime {
            Runtime::Rust => super::rustup::write_toolchain_file(&file, request),
            _ => write_tool_version(&file, runtime, request),
        };
        written.map_err(|e| {
            Failure::new(
                format!("cannot write {}: {e}", file.display()),
                EXIT_FAILURE,
            )
        })?;
        println!(
            "{} {request} ({version}) for {}: written to {}",
            runtime.as_str(),
            here.display(),
            file.display()
        );
    } else {
        println!("{} {version} is now the default", runtime.as_str());
    }
    Ok(EXIT_OK)
}

/// Sets `runtime`'s line in a `.tool-versions` file, keeping the rest.
fn write_tool_version(
    file: &std::path::Path,
    runtime: Runtime,
    version: &str,
) -> std::io::Result<()> {
    let existing = std::fs::read_to_string(file).unwrap_or_default();
    let names: &[&str] = match runtime {
        Runtime::Node => &["node", "nodejs"],
        Runtime::Go => &["go", "golang"],
        _ => &[],
    };
    let mut replaced = false;
    let mut lines: Vec<String> = existing
        .lines()
        .map(|line| {
            let first = line.split_whitespace().next().unwrap_or("");
            if !replaced && (first == runtime.as_str() || names.contains(&first)) {
                replaced = true;
                format!("{first} {version}")
            } else {
                line.to_string()
            }
        })
        .collect();
    if !replaced {
        lines.push(format!("{} {version}", runtime.as_str()));
    }
    let tmp = file.with_extension("omg-tmp");
    std::fs::write(&tmp, lines.join("\n") + "\n")?;
    std::fs::rename(tmp, file)
}

/// The installed versions of `runtime`, newest first.
pub fn installed(versions: &std::path::Path, runtime: Runtime) -> Vec<String> {
    let mut found = crate::runtime::versions::installed(versions, runtime.as_str());
    found.sort_by(|a, b| crate::version::vercmp(b, a));
    found
}

pub(super) fn versions_dir() -> Result<std::path::PathBuf, Failure> {
    crate::config::Paths::user()
        .map(|p| crate::runtime::versions_dir(&p))
        .map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))
}

/// The installed version this directory wants (or the default), with
/// the file that asked.
fn in_use(versions: &std::path::Path, runtime: Runtime) -> Option<(std::path::PathBuf, String)> {
    let here = std::env::current_dir().ok()?;
    match crate::runtime::hook::detect_here(&here).remove(&runtime) {
        Some(wanted) => crate::runtime::hook::installed_match(versions, runtime, &wanted.version)
            .map(|dir| (dir, wanted.file.display().to_string())),
        None => {
            let current = crate::runtime::versions::current_link(versions, runtime.as_str());
            let target = std::fs::read_link(&current).ok()?;
            Some((
                current.parent()?.join(target),
                "the default (omg use)".into(),
            ))
        }
    }
}

/// `omg list RUNTIME`: installed versions, the one in use marked.
pub fn run_list(runtime: Runtime, json: bool) -> Result<u8, Failure> {
    let versions = versions_dir()?;
    if let (Runtime::Rust, Some(rustup), false) = (runtime, super::rustup::delegate(), json) {
        return super::rustup::list(&rustup);
    }
    let list = installed(&versions, runtime);
    let using = in_use(&versions, runtime)
        .and_then(|(dir, _)| dir.file_name().map(|n| n.to_string_lossy().into_owned()));
    if json {
        let rows: Vec<serde_json::Value> = list
            .iter()
            .map(|v| serde_json::json!({"version": v, "in_use": Some(v) == using.as_ref()}))
            .collect();
        super::print_json(&rows)?;
        return Ok(EXIT_OK);
    }
    if list.is_empty() {
        println!(
            "no {} version is installed (omg install {} VERSION)",
            runtime.as_str(),
            runtime.as_str()
        );
        return Ok(EXIT_OK);
    }
    for v in &list {
        let mark = if Some(v) == using.as_ref() {
            "* "
        } else {
            "  "
        };
        println!("{mark}{v}");
    }
    Ok(EXIT_OK)
}

/// `omg which PROGRAM`: the runtime program that would run here.
pub fn run_which(program: &str) -> Result<u8, Failure> {
    let versions = versions_dir()?;
    let runtime = match program {
        "npm" | "npx" | "corepack" => Some(Runtime::Node),
        "python3" | "pip" | "pip3" => Some(Runtime::Python),
        "gofmt" => Some(Runtime::Go),
        "cargo" | "rustc" | "rustup" => Some(Runtime::Rust),
        "gem" | "irb" | "bundle" => Some(Runtime::Ruby),
        "javac" | "jar" => Some(Runtime::Java),
        "bunx" => Some(Runtime::Bun),
        other => Runtime::from_name(other),
    }
    .ok_or_else(|| {
        Failure::new(
            format!("{program} is not a program of a runtime omg manages"),
            EXIT_FAILURE,
        )
    })?;
    let using = in_use(&versions, runtime);
    if runtime == Runtime::Rust
        && using.is_none()
        && let Some(rustup) = super::rustup::delegate()
    {
        return super::rustup::which(&rustup, program);
    }
    let (dir, why) = using.ok_or_else(|| {
        Failure::new(
            format!(
                "no {} version is in use here (omg use {} VERSION)",
                runtime.as_str(),
                runtime.as_str()
            ),
            EXIT_FAILURE,
        )
    })?;
    let path = dir.join("bin").join(program);
    if !path.exists() {
        return Err(Failure::new(
            format!("{} has no {program}", dir.display()),
            EXIT_FAILURE,
        ));
    }
    println!("{}", path.display());
    eprintln!("(chosen by {why})");
    Ok(EXIT_OK)
}

/// `omg uninstall RUNTIME VERSION`.
pub fn run_uninstall(runtime: Runtime, version: &str) -> Result<u8, Failure> {
    let versions = versions_dir()?;
    let target = versions
        .join(runtime.as_str())
        .join(version.strip_prefix('v').unwrap_or(version));
    if let (Runtime::Rust, false, Some(rustup)) =
        (runtime, target.is_dir(), super::rustup::delegate())
    {
        return super::rustup::uninstall(&rustup, version);
    }
    let version = version.strip_prefix('v').unwrap_or(version);
    let was_current = remove_version(&versions, runtime, version)?;
    let name = runtime.as_str();
    let mut changes = vec![crate::runtime::versions::change(
        name,
        "remove",
        Some(version),
        None,
    )];
    if was_current {
        changes.push(crate::runtime::versions::change(
            name,
            "switch",
            Some(version),
            None,
        ));
        println!(
            "{} {version} was the default; there is none now",
            runtime.as_str()
        );
    }
    record(
        &versions,
        &format!("uninstall {} {version}", runtime.as_str()),
        changes,
    );
    println!("{} {version} is uninstalled", runtime.as_str());
    Ok(EXIT_OK)
}

/// The user running omg, as the history and audit log name them.
pub(super) fn this_user() -> String {
    // SAFETY: getuid has no preconditions.
    crate::audit::user_name(unsafe { libc::getuid() })
}

/// Records runtime changes in the user's history (a failure is said, not
/// fatal: the change itself is done).
pub(super) fn record(
    versions: &std::path::Path,
    command: &str,
    changes: Vec<crate::history::PackageChange>,
) {
    if let Err(e) = crate::runtime::versions::record(versions, &this_user(), command, changes) {
        eprintln!("omg: {e}");
    }
}

/// Deletes an installed version (and the default when it named it); says
/// whether the default went too.
pub(super) fn remove_version(
    versions: &std::path::Path,
    runtime: Runtime,
    version: &str,
) -> Result<bool, Failure> {
    let removed =
        crate::runtime::versions::remove(versions, &this_user(), runtime.as_str(), version)
            .map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
    if let Some(e) = removed.not_recorded {
        eprintln!("omg: {e}");
    }
    Ok(removed.was_current)
}

/// `omg exec node@18 -- node -v`: runs a command with that version first
/// on PATH.
pub fn run_exec(spec: &str, command: &[String]) -> Result<u8, Failure> {
    use std::os::unix::process::CommandExt;
    let (name, request) = spec.split_once('@').ok_or_else(|| {
        Failure::new(
            format!("{spec:?}: write RUNTIME@VERSION, e.g. node@20"),
            super::EXIT_USAGE,
        )
    })?;
    let runtime = Runtime::from_name(name).ok_or_else(|| {
        Failure::new(
            format!("{name} is not a runtime omg knows"),
            super::EXIT_USAGE,
        )
    })?;
    let versions = versions_dir()?;
    let dir =
        crate::runtime::hook::installed_match(&versions, runtime, request).ok_or_else(|| {
            Failure::new(
                format!(
                    "{} {request} is not installed (omg install {} {request})",
                    runtime.as_str(),
                    runtime.as_str()
                ),
                EXIT_FAILURE,
            )
        })?;
    let (program, args) = command
        .split_first()
        .ok_or_else(|| Failure::new("nothing to run after --", super::EXIT_USAGE))?;
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut entries = vec![dir.join("bin")];
    entries.extend(std::env::split_paths(&path));
    let joined =
        std::env::join_paths(entries).map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
    let err = std::process::Command::new(program)
        .args(args)
        .env("PATH", joined)
        .exec();
    Err(Failure::new(format!("cannot run {program}: {err}"), 127))
}

/// `omg list RUNTIME --available`: what upstream offers (through omgd,
/// which caches the index for an hour).
pub async fn run_available(
    session: &mut Session,
    runtime: Runtime,
    json: bool,
) -> Result<u8, Failure> {
    let body = RequestBody::RuntimeAvailable {
        runtime: runtime.as_str().into(),
    };
    let ResponseBody::RuntimeAvailable(list) = session.request(body).await? else {
        return Err(unexpected());
    };
    if json {
        super::print_json(&list)?;
        return Ok(EXIT_OK);
    }
    let versions = versions_dir()?;
    let have = installed(&versions, runtime);
    for v in &list {
        let lts = v
            .lts
            .as_deref()
            .map(|l| format!(" (lts/{l})"))
            .unwrap_or_default();
        let mark = if have.contains(&v.version) {
            "  installed"
        } else {
            ""
        };
        println!("{:<12} {}{lts}{mark}", v.version, v.date);
    }
    Ok(EXIT_OK)
}

/// `tool@version` for a tool omg does not manage (`deno@1.40`): the mise
/// fallback's business.
pub fn foreign_runtime(targets: &[String]) -> Option<(String, String)> {
    let [one] = targets else {
        return None;
    };
    let (name, version) = one.split_once('@')?;
    (Runtime::from_name(name).is_none() && !name.is_empty() && !version.is_empty())
        .then(|| (name.to_string(), version.to_string()))
}

fn mise() -> Result<std::path::PathBuf, Failure> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("mise"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Failure::new(
                "omg does not manage this runtime, and mise (which omg hands such runtimes to) is not installed",
                EXIT_FAILURE,
            )
        })
}

fn run_mise(args: &[String]) -> Result<u8, Failure> {
    let mise = mise()?;
    let status = std::process::Command::new(&mise)
        .args(args)
        .status()
        .map_err(|e| Failure::new(format!("cannot run {}: {e}", mise.display()), EXIT_FAILURE))?;
    Ok(if status.success() {
        EXIT_OK
    } else {
        EXIT_FAILURE
    })
}

/// `omg use TOOL VERSION` for a runtime omg does not manage: mise's `use`
/// (global unless `--local`), said so.
pub fn mise_fallback(name: &str, version: &str, local: bool) -> Result<u8, Failure> {
    let mise = mise()?;
    eprintln!(
        "omg: {name} is not a runtime omg manages; handing it to {}",
        mise.display()
    );
    let mut args = vec!["use".to_string()];
    if !local {
        args.push("--global".into());
    }
    args.push(format!("{name}@{version}"));
    run_mise(&args)
}

/// `omg install TOOL@VERSION` for a runtime omg does not manage.
pub fn mise_install(name: &str, version: &str) -> Result<u8, Failure> {
    let mise = mise()?;
    eprintln!(
        "omg: {name} is not a runtime omg manages; handing it to {}",
        mise.display()
    );
    run_mise(&["install".to_string(), format!("{name}@{version}")])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_targets_are_told_from_package_names() {
        let t = |v: &[&str]| runtime_target(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(t(&["node", "20"]), Some((Runtime::Node, "20".into())));
        assert_eq!(
            t(&["node", "lts/iron"]),
            Some((Runtime::Node, "lts/iron".into()))
        );
        assert_eq!(
            t(&["node@18.19.0"]),
            Some((Runtime::Node, "18.19.0".into()))
        );
        assert_eq!(
            t(&["python", "3.12"]),
            Some((Runtime::Python, "3.12".into()))
        );
        assert_eq!(t(&["node", "npm"]), None, "two packages");
        assert_eq!(t(&["vim"]), None);
        assert_eq!(t(&["nodejs"]), None, "the package");
    }

    #[test]
    fn tool_versions_keep_their_other_lines() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".tool-versions");
        std::fs::write(&file, "# tools\nnodejs 18.0.0\npython 3.12.4\n").unwrap();
        write_tool_version(&file, Runtime::Node, "20").unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "# tools\nnodejs 20\npython 3.12.4\n"
        );
        write_tool_version(&file, Runtime::Go, "1.22").unwrap();
        assert!(
            std::fs::read_to_string(&file)
                .unwrap()
                .ends_with("go 1.22\n")
        );
    }
}
