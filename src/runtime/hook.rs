//! Shell integration: `omg hook SHELL` prints the code a shell evaluates at
//! start-up; that code runs `omg hook-env SHELL` before each prompt, which
//! prints the changes to PATH (and `JAVA_HOME`, `GOROOT`) that put the
//! versions the directory asks for first, and with `[hook] env = true` the
//! project's environment (mise's `[env]`, `.env`). hook-env is stateful: the
//! `__OMG_STATE` variable records what it added and what it replaced, so
//! leaving a project takes exactly that away; and when nothing that could
//! matter has changed (the directory, the version files, the installed
//! versions) it prints nothing after a few `stat`s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::version_file::{self, FILES, Runtime};
use crate::status::hook_state::{State, fingerprint};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    pub fn from_name(name: &str) -> Option<Shell> {
        match name {
            "bash" => Some(Shell::Bash),
            "zsh" => Some(Shell::Zsh),
            "fish" => Some(Shell::Fish),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }
}

/// The variable hook-env keeps its state in.
pub const STATE_VAR: &str = "__OMG_STATE";

/// What `omg hook SHELL` prints; with `command_not_found`, the shell's
/// command-not-found handler too.
pub fn hook_script(shell: Shell, omg: &Path, command_not_found: bool) -> String {
    // The prompt's "has anything changed?" is omg-fast's when it is
    // installed beside omg (it hands over to omg when something has).
    let fast = omg.with_file_name("omg-fast");
    let omg = quote(shell, &omg.display().to_string());
    let name = shell.name();
    let hook_env = if fast.is_file() {
        let fast = quote(shell, &fast.display().to_string());
        format!("{fast} hook-env {name} {omg}")
    } else {
        format!("{omg} hook-env {name}")
    };
    let mut script = prompt_hook(shell, &hook_env);
    if command_not_found {
        script.push_str(&match shell {
            Shell::Bash => format!(
                "command_not_found_handle() {{\n  {omg} __command-not-found \"$1\"\n  return 127\n}}\n"
            ),
            Shell::Zsh => format!(
                "command_not_found_handler() {{\n  {omg} __command-not-found \"$1\"\n  return 127\n}}\n"
            ),
            Shell::Fish => format!(
                "function fish_command_not_found\n    {omg} __command-not-found $argv[1]\nend\n"
            ),
        });
    }
    script
}

/// The code that runs `hook_env` (the command) before each prompt.
fn prompt_hook(shell: Shell, hook_env: &str) -> String {
    match shell {
        Shell::Bash => format!(
            "_omg_hook() {{\n  local status=$?\n  eval \"$({hook_env})\"\n  return $status\n}}\n\
             if [[ \";${{PROMPT_COMMAND[*]:-}};\" != *\";_omg_hook;\"* ]]; then\n  \
             PROMPT_COMMAND=\"_omg_hook${{PROMPT_COMMAND:+;$PROMPT_COMMAND}}\"\nfi\n_omg_hook\n"
        ),
        // precmd only: it runs before every prompt, `cd` included, so a
        // chpwd hook would only run it twice.
        Shell::Zsh => format!(
            "_omg_hook() {{\n  eval \"$({hook_env})\"\n}}\n\
             typeset -ag precmd_functions\n\
             if (( ! ${{precmd_functions[(I)_omg_hook]}} )); then\n  \
             precmd_functions=(_omg_hook $precmd_functions)\nfi\n_omg_hook\n"
        ),
        Shell::Fish => format!(
            "function __omg_hook --on-event fish_prompt\n    {hook_env} | source\nend\n__omg_hook\n"
        ),
    }
}

/// A shell word for `text`.
fn quote(shell: Shell, text: &str) -> String {
    match shell {
        Shell::Bash | Shell::Zsh => format!("'{}'", text.replace('\'', "'\\''")),
        Shell::Fish => format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'")),
    }
}

/// The project files upward from `cwd` that exist: every version file,
/// mise's files and `.env` (the one place hook-env probes every name).
fn project_files(cwd: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for dir in cwd.ancestors() {
        for name in FILES.iter().chain([&".env"]) {
            let path = dir.join(name);
            if std::fs::symlink_metadata(&path).is_ok() {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

/// The version files here, as `version_file::detect` finds them, read only
/// among the project files the shell hook's state lists when that state
/// still holds here (no other exists then): a `which` or `current` typed
/// at a prompt skips probing every name in every directory upward.
pub fn detect_here(cwd: &Path) -> BTreeMap<Runtime, version_file::Wanted> {
    let known: Option<std::collections::HashSet<String>> = std::env::var(STATE_VAR)
        .ok()
        .and_then(|s| State::decode(&s))
        .filter(|state| state.holds_in(cwd))
        .map(|state| state.stamped.into_iter().collect());
    version_file::detect_among(cwd, known.as_ref())
}

/// What hook-env's answer depends on besides the directories upward (see
/// `hook_state`): the project files found, config.toml (`[hook] env`), and
/// each runtime's versions directory (a version installed or removed, the
/// `current` link replaced).
fn stamped(files: Vec<String>, versions: &Path, config: &Path) -> Vec<String> {
    let mut paths = files;
    paths.push(config.display().to_string());
    for runtime in Runtime::ALL {
        paths.push(versions.join(runtime.as_str()).display().to_string());
    }
    paths
}

/// The installed version directory that best answers `request`: an exact
/// directory name, else the newest installed version the request matches
/// (partial versions, `latest`, ranges).
pub fn installed_match(versions: &Path, runtime: Runtime, request: &str) -> Option<PathBuf> {
    let dir = versions.join(runtime.as_str());
    let request = request.trim();
    let request = match runtime {
        Runtime::Rust => request
            .strip_suffix(&format!("-{}", super::rust::host()))
            .unwrap_or(request),
        _ => request,
    };
    let plain = request.strip_prefix('v').unwrap_or(request);
    let exact = dir.join(plain);
    if !plain.is_empty() && !plain.contains('/') && exact.is_dir() {
        return Some(exact);
    }
    let installed = super::versions::installed(versions, runtime.as_str());
    // Rust's moving channels: the newest nightly or beta installed.
    if runtime == Runtime::Rust && (request == "nightly" || request == "beta") {
        return installed
            .iter()
            .filter(|n| match request {
                "nightly" => n.starts_with("nightly-"),
                _ => n.contains("-beta"),
            })
            .max_by(|a, b| crate::version::vercmp(a, b))
            .map(|n| dir.join(n));
    }
    let wants_lts = request.to_lowercase().starts_with("lts");
    let parse = |name: &str| {
        semver::Version::parse(name)
            .or_else(|_| semver::Version::parse(&format!("{name}.0")))
            .or_else(|_| semver::Version::parse(&format!("{name}.0.0")))
            .ok()
    };
    let releases: Vec<super::node::Release> = installed
        .iter()
        .filter_map(|name| {
            let version = parse(name)?;
            // Node's LTS line: as recorded at install, else by major.
            let lts = wants_lts
                .then(|| {
                    std::fs::read_to_string(dir.join(name).join(super::node::LTS_MARKER))
                        .ok()
                        .map(|c| c.trim().to_lowercase())
                        .or_else(|| super::node::lts_codename(version.major).map(String::from))
                })
                .flatten();
            Some(super::node::Release {
                version,
                lts,
                date: String::new(),
                files: Vec::new(),
            })
        })
        .collect();
    let best = super::node::resolve(&releases, request, "")?;
    installed
        .iter()
        .find(|name| parse(name).is_some_and(|v| v == best.version))
        .map(|name| dir.join(name))
}

/// The directories a version puts on PATH, and the variables it sets.
fn activation(runtime: Runtime, root: &Path) -> (Vec<PathBuf>, Vec<(&'static str, PathBuf)>) {
    let bin = root.join("bin");
    match runtime {
        Runtime::Java => (vec![bin], vec![("JAVA_HOME", root.to_path_buf())]),
        Runtime::Go => (vec![bin], vec![("GOROOT", root.to_path_buf())]),
        _ => (vec![bin], Vec::new()),
    }
}

/// The shell code that brings the environment in line with `cwd`, or an
/// empty string when nothing changed. `var` reads the environment;
/// `warn` receives notes for the user (a wanted version not installed).
/// `config_dir` holds config.toml (`[hook] env`).
pub fn hook_env(
    shell: Shell,
    cwd: &Path,
    versions: &Path,
    config_dir: &Path,
    var: &dyn Fn(&str) -> Option<String>,
    warn: &mut dyn FnMut(String),
) -> String {
    let previous = var(STATE_VAR)
        .and_then(|s| State::decode(&s))
        .unwrap_or_default();
    if var(STATE_VAR).is_some() && previous.holds_in(cwd) {
        return String::new();
    }
    let files = project_files(cwd);
    // Read among the files just found: no second probe of every name.
    let wanted = version_file::detect_among(cwd, Some(&files.iter().cloned().collect()));
    let stamped = stamped(files, versions, &config_dir.join("config.toml"));
    let print = fingerprint(cwd, &stamped);
    let mut bins: Vec<PathBuf> = Vec::new();
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    for runtime in Runtime::ALL {
        let root = match wanted.get(&runtime) {
            Some(w) => match installed_match(versions, runtime, &w.version) {
                Some(root) => Some(root),
                // rustup's proxies pick the toolchain themselves.
                None if runtime == Runtime::Rust && super::rust::rustup().is_some() => None,
                None => {
                    warn(format!(
                        "{} {} (asked by {}) is not installed: run `omg install {} {}`",
                        runtime.as_str(),
                        w.version,
                        w.file.display(),
                        runtime.as_str(),
                        w.version
                    ));
                    None
                }
            },
            None => {
                let current = super::versions::current_link(versions, runtime.as_str());
                current.is_dir().then_some(current)
            }
        };
        if let Some(root) = root {
            let (paths, sets) = activation(runtime, &root);
            bins.extend(paths);
            for (name, value) in sets {
                vars.insert(name.to_string(), value.display().to_string());
            }
        }
    }

    // The project's environment, over what the runtimes set.
    let env_on = crate::config::Config::load(config_dir).is_ok_and(|c| c.hook.env);
    if env_on {
        let project = super::project_env::collect(cwd);
        bins.splice(0..0, project.path);
        for (name, value) in project.vars {
            if name != "PATH" && name != STATE_VAR {
                vars.insert(name, value);
            }
        }
    }

    // PATH: what is there, minus what we added before, with ours in front.
    let path = var("PATH").unwrap_or_default();
    let kept: Vec<&str> = path
        .split(':')
        .filter(|p| !p.is_empty() && !previous.added.iter().any(|a| a == p))
        .collect();
    let added: Vec<String> = bins.iter().map(|b| b.display().to_string()).collect();
    let new_path: Vec<&str> = added.iter().map(String::as_str).chain(kept).collect();

    let mut state = State {
        fingerprint: print,
        added: added.clone(),
        replaced: BTreeMap::new(),
        stamped,
    };
    let mut out = String::new();
    out.push_str(&set(shell, "PATH", &new_path.join(":")));
    // Variables set before and not wanted now: back to what they were.
    for (name, before) in &previous.replaced {
        if vars.contains_key(name) {
            continue;
        }
        match before {
            Some(v) => out.push_str(&set(shell, name, v)),
            None => out.push_str(&unset(shell, name)),
        }
    }
    for (name, value) in &vars {
        // The value before omg first set it, kept across changes.
        let before = match previous.replaced.get(name) {
            Some(before) => before.clone(),
            None => var(name),
        };
        state.replaced.insert(name.clone(), before);
        out.push_str(&set(shell, name, value));
    }
    out.push_str(&set(shell, STATE_VAR, &state.encode()));
    out
}

fn set(shell: Shell, name: &str, value: &str) -> String {
    match shell {
        Shell::Bash | Shell::Zsh => format!("export {name}={};\n", quote(shell, value)),
        Shell::Fish if name == "PATH" => {
            let parts: Vec<String> = value
                .split(':')
                .filter(|p| !p.is_empty())
                .map(|p| quote(shell, p))
                .collect();
            format!("set -gx PATH {};\n", parts.join(" "))
        }
        Shell::Fish => format!("set -gx {name} {};\n", quote(shell, value)),
    }
}

fn unset(shell: Shell, name: &str) -> String {
    match shell {
        Shell::Bash | Shell::Zsh => format!("unset {name};\n"),
        Shell::Fish => format!("set -e {name};\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_versions_match_partial_and_exact_requests() {
        let dir = tempfile::tempdir().unwrap();
        for v in ["18.19.0", "20.10.0", "20.11.1"] {
            std::fs::create_dir_all(dir.path().join("node").join(v).join("bin")).unwrap();
        }
        let pick = |r: &str| {
            installed_match(dir.path(), Runtime::Node, r)
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        };
        assert_eq!(pick("20").as_deref(), Some("20.11.1"));
        assert_eq!(pick("v20.10.0").as_deref(), Some("20.10.0"));
        assert_eq!(pick("18").as_deref(), Some("18.19.0"));
        assert_eq!(pick("latest").as_deref(), Some("20.11.1"));
        assert_eq!(pick("^18").as_deref(), Some("18.19.0"));
        assert_eq!(pick("16"), None);
    }

    #[test]
    fn lts_aliases_and_rust_channels_resolve_offline() {
        let dir = tempfile::tempdir().unwrap();
        for v in ["18.19.0", "20.11.1", "21.6.0", "22.3.0"] {
            std::fs::create_dir_all(dir.path().join("node").join(v)).unwrap();
        }
        // 22.3.0 was installed before its line became LTS: the marker
        // (none here, as upstream said then) does not exist, so the table
        // decides; 20.11.1 says it is iron.
        std::fs::write(dir.path().join("node/20.11.1/.omg-lts"), "iron").unwrap();
        let pick = |runtime, r: &str| {
            installed_match(dir.path(), runtime, r)
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        };
        assert_eq!(pick(Runtime::Node, "lts/iron").as_deref(), Some("20.11.1"));
        assert_eq!(
            pick(Runtime::Node, "lts/Hydrogen").as_deref(),
            Some("18.19.0")
        );
        assert_eq!(pick(Runtime::Node, "lts/*").as_deref(), Some("22.3.0"));
        assert_eq!(pick(Runtime::Node, "lts/gallium"), None);

        for v in [
            "1.85.1",
            "1.86.0",
            "1.87.0-beta.3",
            "nightly-2025-03-30",
            "nightly-2025-04-03",
        ] {
            std::fs::create_dir_all(dir.path().join("rust").join(v)).unwrap();
        }
        assert_eq!(pick(Runtime::Rust, "stable").as_deref(), Some("1.86.0"));
        assert_eq!(pick(Runtime::Rust, "1.85").as_deref(), Some("1.85.1"));
        assert_eq!(
            pick(Runtime::Rust, "nightly").as_deref(),
            Some("nightly-2025-04-03")
        );
        assert_eq!(
            pick(Runtime::Rust, "beta").as_deref(),
            Some("1.87.0-beta.3")
        );
        let host = crate::runtime::rust::host();
        assert_eq!(
            pick(Runtime::Rust, &format!("nightly-2025-03-30-{host}")).as_deref(),
            Some("nightly-2025-03-30")
        );
    }
}
