//! `omg install RUNTIME VERSION` and `omg use [--local] RUNTIME VERSION`:
//! the install runs in this user's omgd (which downloads and verifies);
//! `--local` writes the choice into the project's `.tool-versions`.

use super::progress::Renderer;
use super::transaction::stream;
use super::{EXIT_FAILURE, EXIT_OK, Failure, Session, unexpected};
use crate::ipc::client::{Connection, daemon_binary};
use crate::ipc::protocol::{RequestBody, ResponseBody, RuntimeInstallRequest};
use crate::runtime::version_file::Runtime;

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
    // The full omgd: downloads and signatures live there.
    let mut connection =
        Connection::spawn_stdio(&daemon_binary(), session.verbose, &session.env).await?;
    let mut renderer = Renderer::new(false);
    let body = RequestBody::RuntimeInstall(RuntimeInstallRequest {
        runtime: runtime.as_str().into(),
        request: request.into(),
        insecure,
        make_current,
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
    let (version, _) = install(session, runtime, request, !local, false).await?;
    if local {
        let here = std::env::current_dir().map_err(|e| {
            Failure::new(
                format!("cannot tell the current directory: {e}"),
                EXIT_FAILURE,
            )
        })?;
        let file = here.join(".tool-versions");
        write_tool_version(&file, runtime, request).map_err(|e| {
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
