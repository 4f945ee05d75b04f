//! Running a stranger's PKGBUILD in a bubblewrap sandbox. Everything makepkg
//! does with the PKGBUILD (reading it, downloading the sources, building,
//! listing the packages) runs with the host read-only, the user's home
//! empty and read-only (SSH keys and agent, GnuPG home, browser profiles,
//! every dotfile invisible), a private home and the build directory the
//! only writable places besides a private /tmp, the user's session
//! (`/run/user`, the session bus, the display) out of reach, and no
//! network except while the sources are downloaded.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a sandboxed step may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// The source download step.
    Allowed,
    /// Everything else: the sandbox has a network of its own with only
    /// its loopback.
    Denied,
}

/// Variables that would lead out of the sandbox (agents, the session bus,
/// the display) or back into the real home.
const DROPPED_VARIABLES: &[&str] = &[
    "SSH_AUTH_SOCK",
    "SSH_AGENT_PID",
    "GPG_AGENT_INFO",
    "GNUPGHOME",
    "DBUS_SESSION_BUS_ADDRESS",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XAUTHORITY",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
];

/// The makepkg configuration files of a user, relative to the home.
const MAKEPKG_CONFIGS: &[&str] = &[".makepkg.conf", ".config/pacman/makepkg.conf"];

/// The bubblewrap program that builds the sandboxes.
#[derive(Debug, Clone)]
pub struct Sandbox {
    bwrap: PathBuf,
    /// The user's home, hidden inside.
    home: Option<PathBuf>,
}

impl Sandbox {
    /// Whether config.toml wants builds sandboxed (`[aur] sandbox`, on
    /// unless turned off).
    pub fn wanted() -> bool {
        crate::config::Paths::user()
            .ok()
            .and_then(|p| crate::config::Config::load(&p.config_dir).ok())
            .unwrap_or_default()
            .aur
            .sandbox
    }

    /// bwrap from `PATH`, when it is installed and can make a sandbox here
    /// (unprivileged user namespaces may be off).
    pub fn find() -> Option<Sandbox> {
        let bwrap = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join("bwrap"))
            .find(|p| p.is_file())?;
        let works = Command::new(&bwrap)
            .args(["--ro-bind", "/", "/", "--unshare-net", "--", "true"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|h| h.is_absolute() && h.is_dir() && h != Path::new("/"));
        works.then_some(Sandbox { bwrap, home })
    }

    /// The private home of the build in `dir`: beside it, kept between
    /// builds of the base (caches of cargo, npm, go).
    pub fn private_home(dir: &Path) -> PathBuf {
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        dir.with_file_name(format!(".{name}.home"))
    }

    /// `program` run in a sandbox for the build in `dir` (its working
    /// directory), reaching the network as `network` says. Variables set
    /// on the returned command pass into the sandbox.
    pub fn command(&self, dir: &Path, program: &str, network: Network) -> std::io::Result<Command> {
        let private = Sandbox::private_home(dir);
        std::fs::create_dir_all(&private)?;
        let mut command = Command::new(&self.bwrap);
        command.args(self.arguments(dir, &private, network));
        command.arg("--").arg(program).current_dir(dir);
        Ok(command)
    }

    /// bwrap's arguments, in the order they must be (later mounts go over
    /// earlier ones).
    fn arguments(&self, dir: &Path, private: &Path, network: Network) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        let mut push = |items: &[&std::ffi::OsStr]| args.extend(items.iter().map(|s| s.into()));
        push(&["--ro-bind".as_ref(), "/".as_ref(), "/".as_ref()]);
        push(&["--dev".as_ref(), "/dev".as_ref()]);
        push(&["--proc".as_ref(), "/proc".as_ref()]);
        push(&["--tmpfs".as_ref(), "/tmp".as_ref()]);
        if Path::new("/run/user").is_dir() {
            push(&["--tmpfs".as_ref(), "/run/user".as_ref()]);
        }
        if let Some(home) = &self.home {
            push(&["--tmpfs".as_ref(), home.as_os_str()]);
        }
        push(&["--bind".as_ref(), dir.as_os_str(), dir.as_os_str()]);
        push(&["--bind".as_ref(), private.as_os_str(), private.as_os_str()]);
        if let Some(home) = &self.home {
            // The user's own makepkg settings (packager, flags) still apply.
            for config in MAKEPKG_CONFIGS {
                push(&[
                    "--ro-bind-try".as_ref(),
                    home.join(config).as_os_str(),
                    private.join(config).as_os_str(),
                ]);
            }
            push(&["--remount-ro".as_ref(), home.as_os_str()]);
        }
        push(&["--setenv".as_ref(), "HOME".as_ref(), private.as_os_str()]);
        for variable in DROPPED_VARIABLES {
            push(&["--unsetenv".as_ref(), variable.as_ref()]);
        }
        for namespace in ["--unshare-pid", "--unshare-ipc", "--unshare-uts"] {
            push(&[namespace.as_ref()]);
        }
        if network == Network::Denied {
            push(&["--unshare-net".as_ref()]);
        }
        push(&[
            "--die-with-parent".as_ref(),
            // No controlling terminal: nothing inside can push keystrokes
            // into the user's shell (TIOCSTI).
            "--new-session".as_ref(),
            "--chdir".as_ref(),
            dir.as_os_str(),
        ]);
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_is_hidden_before_the_build_directory_is_opened() {
        let sandbox = Sandbox {
            bwrap: "/usr/bin/bwrap".into(),
            home: Some("/home/ann".into()),
        };
        let dir = Path::new("/home/ann/.cache/omg/aur/foo");
        let private = Sandbox::private_home(dir);
        assert_eq!(private, Path::new("/home/ann/.cache/omg/aur/.foo.home"));
        let args: Vec<String> = sandbox
            .arguments(dir, &private, Network::Denied)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let at = |needle: &[&str]| {
            args.windows(needle.len())
                .position(|w| w == needle)
                .unwrap_or_else(|| panic!("{needle:?} in {args:?}"))
        };
        let hidden = at(&["--tmpfs", "/home/ann"]);
        let opened = at(&["--bind", dir.to_str().unwrap(), dir.to_str().unwrap()]);
        let read_only = at(&["--remount-ro", "/home/ann"]);
        assert!(at(&["--ro-bind", "/", "/"]) < hidden);
        assert!(hidden < opened && opened < read_only);
        at(&["--setenv", "HOME", private.to_str().unwrap()]);
        at(&["--unsetenv", "SSH_AUTH_SOCK"]);
        at(&["--unshare-net"]);
        let online: Vec<String> = sandbox
            .arguments(dir, &private, Network::Allowed)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(!online.contains(&"--unshare-net".to_string()));
    }
}
