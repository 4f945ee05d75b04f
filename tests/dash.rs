//! `omg dash` driven for real in tmux (send-keys, capture-pane) on a
//! temporary Debian root with a pending update, an installed runtime and a
//! recorded transaction: it starts, shows each tab, quits on `q`, and
//! leaves the terminal as it found it (`stty -g` before and after).

mod common;

use std::time::{Duration, Instant};

use common::deb::DebRoot;

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "dash"])
    }

    /// Waits until the screen shows `text`; the screen either way.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.contains(text) || Instant::now() > deadline {
                return screen;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn keys(&self, keys: &str) {
        self.run(&["send-keys", "-t", "dash", keys]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

fn quote(value: &std::ffi::OsStr) -> String {
    format!("'{}'", value.to_string_lossy().replace('\'', "'\\''"))
}

#[test]
fn the_dashboard_shows_each_tab_and_restores_the_terminal() {
    let root = DebRoot::new();
    root.add("omg-lib", "1.0", "");
    root.add("omg-app", "1.0", "Depends: omg-lib\n");
    root.publish();
    root.update();
    let env = root.env();
    let install = env.omg(&["install", "omg-app", "--noconfirm"]);
    assert_eq!(install.code, 0, "{}", install.stderr);
    root.add("omg-lib", "2.0", "");
    root.publish();
    root.update();
    let versions = env.data_dir().join("versions/node");
    std::fs::create_dir_all(versions.join("20.10.0/bin")).unwrap();
    std::os::unix::fs::symlink("20.10.0", versions.join("current")).unwrap();

    // A script with omg's environment: the dashboard, then how it ended.
    let command = env.command(*common::OMG);
    let mut script = String::from("#!/bin/sh\n");
    for (key, value) in command.get_envs() {
        let key = key.to_string_lossy();
        match value {
            Some(v) => script.push_str(&format!("export {key}={}\n", quote(v))),
            None => script.push_str(&format!("unset {key}\n")),
        }
    }
    script.push_str(&format!(
        "before=$(stty -g)\n{} dash\ncode=$?\nafter=$(stty -g)\n[ \"$before\" = \"$after\" ] && echo TERMINAL-RESTORED\necho DASH-EXIT=$code\nsleep 60\n",
        *common::OMG
    ));
    let path = env.dir.path().join("dash.sh");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let tmux = Tmux {
        socket: format!("omg-dash-{}", std::process::id()),
    };
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "dash",
        "-x",
        "140",
        "-y",
        "40",
        path.to_str().unwrap(),
    ]);
    let screen = tmux.wait_for("omg-lib");
    assert!(screen.contains("omg dash"), "{screen}");
    assert!(screen.contains("1 Updates (1)"), "{screen}");
    assert!(screen.contains("2.0"), "{screen}");

    tmux.keys("Tab");
    let screen = tmux.wait_for("no pending update fixes");
    assert!(
        screen.contains("no pending update fixes a known vulnerability"),
        "{screen}"
    );
    tmux.keys("3");
    let screen = tmux.wait_for("20.10.0");
    assert!(screen.contains("node"), "{screen}");
    tmux.keys("Right");
    let screen = tmux.wait_for("install omg-app");
    assert!(screen.contains("install omg-app"), "{screen}");
    // Back to the first tab with the other direction.
    tmux.keys("Left");
    tmux.keys("Left");
    tmux.keys("Left");
    let screen = tmux.wait_for("omg-lib");
    assert!(screen.contains("INSTALLED"), "{screen}");

    tmux.keys("q");
    let screen = tmux.wait_for("DASH-EXIT=");
    assert!(screen.contains("DASH-EXIT=0"), "{screen}");
    assert!(screen.contains("TERMINAL-RESTORED"), "{screen}");
    assert!(
        !screen.contains("omg dash"),
        "the alternate screen is gone: {screen}"
    );
}

#[test]
fn without_a_terminal_it_says_what_serves_scripts() {
    let env = common::Env::new();
    let run = env.omg(&["dash"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("needs a terminal"), "{}", run.stderr);
}
