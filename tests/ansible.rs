//! The Ansible collection (`packaging/ansible`, `omg.omg`), installed
//! with `ansible-galaxy` as a user would and driven by `ansible-playbook`
//! (ansible-core from PyPI, in the venv `scripts/install-deps.sh` makes)
//! against localhost with the local connection: packages installed,
//! upgraded and removed in a Debian root, check mode planning without
//! changing, a second run changing nothing, a drifted lock reported and
//! fixed, facts; and `ansible-doc` and `ansible-test sanity` on the
//! modules.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::OMG;
use common::deb::DebRoot;
use serde_json::{Value, json};

const VENV: &str = "/opt/omg-ansible-venv";

/// The collection installed into a temporary collections path, and a
/// home of Ansible's own.
struct Ansible {
    dir: tempfile::TempDir,
}

impl Ansible {
    fn new() -> Option<Ansible> {
        if !Path::new(VENV).join("bin/ansible-playbook").is_file() {
            return common::skip(
                "ansible-core is not in /opt/omg-ansible-venv (scripts/install-deps.sh)",
            );
        }
        let ansible = Ansible {
            dir: tempfile::tempdir().unwrap(),
        };
        let out = ansible
            .command("ansible-galaxy")
            .args(["collection", "install", "--offline", "-p"])
            .arg(ansible.collections())
            .arg(common::repo().join("packaging/ansible"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ansible-galaxy collection install: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(ansible)
    }

    fn collections(&self) -> PathBuf {
        self.dir.path().join("collections")
    }

    /// The installed collection's own directory.
    fn collection(&self) -> PathBuf {
        self.collections().join("ansible_collections/omg/omg")
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(Path::new(VENV).join("bin").join(program));
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        c.env("HOME", &home)
            .env("ANSIBLE_HOME", self.dir.path().join("ansible"))
            .env("ANSIBLE_COLLECTIONS_PATH", self.collections())
            .env("ANSIBLE_LOCAL_TEMP", self.dir.path().join("tmp"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("LC_ALL", "C.UTF-8")
            .env("PATH", format!("{VENV}/bin:{}", common::plain_path()));
        c
    }

    /// Runs the tasks as one play on localhost, with omg's environment
    /// `env`; every task's result, in order (each registered, and all of
    /// them written to a file by a last task).
    fn play(&self, env: &common::Env, tasks: Value) -> Vec<Value> {
        let variables: serde_json::Map<String, Value> = env
            .command("true")
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_str()?.to_string(), json!(v?.to_str()?))))
            .collect();
        let mut tasks = tasks.as_array().expect("a list of tasks").clone();
        let names: Vec<String> = (0..tasks.len()).map(|i| format!("result{i}")).collect();
        for (task, name) in tasks.iter_mut().zip(&names) {
            task["register"] = json!(name);
        }
        let results = self.dir.path().join("results.json");
        tasks.push(json!({"ansible.builtin.copy": {
            "content": format!("{{{{ [{}] | to_json }}}}", names.join(", ")),
            "dest": results,
        }}));
        let playbook = json!([{
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": false,
            "environment": variables,
            "tasks": tasks,
        }]);
        let file = self.dir.path().join("playbook.yml");
        std::fs::write(&file, serde_json::to_string_pretty(&playbook).unwrap()).unwrap();
        let inventory = self.dir.path().join("inventory");
        std::fs::write(
            &inventory,
            format!(
                "localhost ansible_connection=local ansible_python_interpreter={VENV}/bin/python\n"
            ),
        )
        .unwrap();
        let _ = std::fs::remove_file(&results);
        let out = self
            .command("ansible-playbook")
            .arg("-i")
            .arg(&inventory)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ansible-playbook failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&results).expect("the results the last task wrote");
        serde_json::from_str::<Vec<Value>>(&text).expect("the results as JSON")
    }
}

fn package(args: Value) -> Value {
    let mut args = args;
    args["executable"] = json!(*OMG);
    json!({ "omg.omg.package": args })
}

fn checked(task: Value) -> Value {
    let mut task = task;
    task["check_mode"] = json!(true);
    task["diff"] = json!(true);
    task
}

fn change_names(result: &Value) -> Vec<(String, String)> {
    let mut names: Vec<(String, String)> = result["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    names.sort();
    names
}

fn version_of(root: &DebRoot, name: &str) -> Option<String> {
    root.installed()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

#[test]
fn packages_are_installed_upgraded_and_removed_and_a_second_run_changes_nothing() {
    let Some(ansible) = Ansible::new() else {
        return;
    };
    let root = DebRoot::new();
    root.add("omg-lib", "1.0", "");
    root.add("omg-app", "1.0", "Depends: omg-lib\n");
    root.publish();
    root.update();
    let env = root.env();

    let results = ansible.play(
        &env,
        json!([
            checked(package(json!({"name": ["omg-app"]}))),
            package(json!({"name": ["omg-app"]})),
            package(json!({"name": ["omg-app"]})),
        ]),
    );
    // Check mode: omg's plan, nothing installed.
    assert_eq!(results[0]["changed"], true, "{}", results[0]);
    assert_eq!(
        change_names(&results[0]),
        [
            ("omg-app".to_string(), "Install".to_string()),
            ("omg-lib".to_string(), "Install".to_string())
        ]
    );
    let diff = &results[0]["diff"];
    assert!(
        diff["after"].as_str().unwrap().contains("omg-app 1.0")
            && diff["before"]
                .as_str()
                .unwrap()
                .contains("omg-app (absent)"),
        "{diff}"
    );
    // Then for real, then again: no change.
    assert_eq!(results[1]["changed"], true, "{}", results[1]);
    assert_eq!(results[2]["changed"], false, "{}", results[2]);
    assert_eq!(results[2]["changes"], json!([]));
    assert_eq!(version_of(&root, "omg-app").as_deref(), Some("1.0"));

    // A new version: latest upgrades it, once; facts see it pending first.
    root.add("omg-app", "1.1", "Depends: omg-lib\n");
    root.publish();
    let results = ansible.play(
        &env,
        json!([
            {"omg.omg.facts": {"executable": *OMG}},
            checked(package(json!({"name": ["omg-app"], "state": "latest", "update_cache": true}))),
            package(json!({"name": ["omg-app"], "state": "latest", "update_cache": true})),
            package(json!({"name": ["omg-app"], "state": "latest"})),
            package(json!({"name": ["omg-app"], "state": "present"})),
        ]),
    );
    let facts = &results[0]["ansible_facts"];
    assert_eq!(facts["omg_backend"], "apt");
    assert_eq!(facts["omg_security_updates"], 0);
    assert_eq!(facts["omg_vulnerable_packages"], Value::Null, "no scan yet");
    if omg::reboot::machine_reason().is_none() {
        assert_eq!(facts["omg_reboot_required"], false);
    }
    assert_eq!(
        change_names(&results[1]),
        [("omg-app".to_string(), "Upgrade".to_string())]
    );
    assert_eq!(results[1]["changes"][0]["new_version"], "1.1");
    assert_eq!(results[2]["changed"], true);
    assert_eq!(results[3]["changed"], false, "{}", results[3]);
    assert_eq!(results[4]["changed"], false);
    assert_eq!(version_of(&root, "omg-app").as_deref(), Some("1.1"));

    let results = ansible.play(
        &env,
        json!([
            checked(package(json!({"name": ["omg-app"], "state": "absent"}))),
            package(json!({"name": ["omg-app", "never-installed"], "state": "absent"})),
            package(json!({"name": ["omg-app"], "state": "absent"})),
        ]),
    );
    assert_eq!(
        change_names(&results[0]),
        [("omg-app".to_string(), "Remove".to_string())]
    );
    assert_eq!(results[1]["changed"], true);
    assert_eq!(results[2]["changed"], false);
    assert_eq!(version_of(&root, "omg-app"), None);
    assert!(
        version_of(&root, "omg-lib").is_some(),
        "remove is not autoremove"
    );
}

#[test]
fn facts_before_the_first_update_check_count_what_the_lists_offer() {
    let Some(ansible) = Ansible::new() else {
        return;
    };
    let root = DebRoot::new();
    root.add("omg-app", "1.0", "");
    root.publish();
    root.update();
    let env = root.env();
    let results = ansible.play(
        &env,
        json!([
            package(json!({"name": ["omg-app"]})),
            {"omg.omg.facts": {"executable": *OMG}},
        ]),
    );
    let facts = &results[1]["ansible_facts"];
    assert_eq!(facts["omg_pending_updates"], 0, "{facts}");
    assert_eq!(facts["omg_drift"], Value::Null, "no lock given");
}

#[test]
fn a_drifted_lock_is_reported_then_fixed_once() {
    let Some(ansible) = Ansible::new() else {
        return;
    };
    let root = DebRoot::new();
    root.add("omg-lib", "1.0", "");
    root.add("omg-app", "1.0", "Depends: omg-lib\n");
    root.add("omg-tool", "2.0", "");
    root.publish();
    root.update();
    let env = root.env();
    let lock = env.dir.path().join("fleet/omg.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    let lock_arg = lock.to_str().unwrap();
    let run = env.omg(&["install", "omg-app", "omg-tool", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = env.omg(&["env", "capture", "--file", lock_arg]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Drift: one locked package gone.
    let run = env.omg(&["remove", "omg-tool", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let env_task = |state: &str| json!({"omg.omg.env": {"lock": lock_arg, "state": state, "executable": *OMG}});
    let results = ansible.play(
        &env,
        json!([
            env_task("checked"),
            checked(env_task("synced")),
            env_task("synced"),
            env_task("synced"),
            env_task("checked"),
            {"omg.omg.facts": {"executable": *OMG, "lock": lock_arg}},
        ]),
    );
    // Reported, nothing changed.
    assert_eq!(results[0]["changed"], false);
    assert_eq!(results[0]["drifted"], true);
    let drift = results[0]["drift"].as_array().unwrap();
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(drift[0]["kind"], "missing-package");
    assert_eq!(drift[0]["name"], "omg-tool");
    // Check mode: what would change, as the diff.
    assert_eq!(results[1]["changed"], true);
    let diff = &results[1]["diff"];
    assert!(
        diff["before"]
            .as_str()
            .unwrap()
            .contains("omg-tool (absent)")
            && diff["after"].as_str().unwrap().contains("omg-tool 2.0"),
        "{diff}"
    );
    // Fixed once; then nothing left.
    assert_eq!(results[2]["changed"], true, "{}", results[2]);
    assert_eq!(results[2]["drift"], json!([]));
    assert_eq!(results[3]["changed"], false, "{}", results[3]);
    assert_eq!(results[4]["drifted"], false);
    assert_eq!(results[5]["ansible_facts"]["omg_drift"], json!([]));
    assert_eq!(version_of(&root, "omg-tool").as_deref(), Some("2.0"));
}

#[test]
fn every_module_is_documented_and_passes_ansible_tests_sanity() {
    let Some(ansible) = Ansible::new() else {
        return;
    };
    for module in ["package", "env", "facts"] {
        let out = ansible
            .command("ansible-doc")
            .arg(format!("omg.omg.{module}"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains(&format!("omg.omg.{module}")),
            "ansible-doc omg.omg.{module}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("EXAMPLES") && text.contains("RETURN VALUES"),
            "{text}"
        );
    }
    // ansible-test makes a venv per sanity test and bootstraps pip in it
    // with a script it downloads from ci-files.testing.ansible.com; here
    // the venv's own ensurepip and PyPI take its place.
    let home = ansible.dir.path().join("home");
    let source = std::fs::read_to_string(
        Path::new(VENV)
            .join("lib/python3.11/site-packages/ansible_test/_internal/python_requirements.py"),
    )
    .expect("ansible-test's python_requirements.py");
    let pip = source
        .split("pip='")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("the pip version ansible-test bootstraps");
    let cache = home.join(".ansible/test/cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(
        cache.join(format!("get_pip_{}.py", pip.replace('.', "_"))),
        "import subprocess, sys\n\
         subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'])\n\
         args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]\n\
         subprocess.check_call([sys.executable, '-m', 'pip', 'install', '-q'] + args)\n",
    )
    .unwrap();
    // pslint (PowerShell) and shellcheck have nothing to read: the
    // collection has no PowerShell and no shell scripts.
    let out = ansible
        .command("ansible-test")
        .args([
            "sanity",
            "--python",
            "3.11",
            "--requirements",
            "--skip-test",
            "pslint",
            "--skip-test",
            "shellcheck",
        ])
        .current_dir(ansible.collection())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "ansible-test sanity:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("Running sanity test \"validate-modules\"")
            && stdout.contains("Running sanity test \"pylint\""),
        "{stdout}"
    );
}

#[test]
fn runtime_versions_are_installed_upgraded_within_their_line_and_removed() {
    let Some(ansible) = Ansible::new() else {
        return;
    };
    let mirror = common::node::NodeMirror::with(&["20.11.0", "20.10.0", "18.19.0"]);
    let env = common::Env::new();
    env.configure(&mirror.config());
    let versions = env.data_dir().join("versions/node");
    let installed = || {
        let mut found: Vec<String> = std::fs::read_dir(&versions)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.') && n != "current")
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    };
    let runtime = |entry: &str, state: &str| package(json!({"runtime": [entry], "state": state}));
    let results = ansible.play(
        &env,
        json!([
            checked(runtime("node@20.10.0", "present")),
            runtime("node@20.10.0", "present"),
            runtime("node@20", "present"),
        ]),
    );
    assert_eq!(results[0]["changed"], true);
    assert_eq!(results[0]["runtimes"][0]["action"], "install");
    assert!(
        results[0]["diff"]["after"]
            .as_str()
            .unwrap()
            .contains("node@20.10.0"),
        "{}",
        results[0]
    );
    assert_eq!(results[1]["changed"], true, "{}", results[1]);
    assert_eq!(results[1]["runtimes"][0]["version"], "20.10.0");
    assert_eq!(results[2]["changed"], false, "20.10.0 is of the line 20");
    assert_eq!(installed(), ["20.10.0"]);

    let results = ansible.play(
        &env,
        json!([
            runtime("node@20", "latest"),
            runtime("node@20", "latest"),
            checked(runtime("node@20", "absent")),
            runtime("node@20", "absent"),
            runtime("node@20", "absent"),
        ]),
    );
    assert_eq!(results[0]["changed"], true);
    assert_eq!(results[0]["runtimes"][0]["version"], "20.11.0");
    assert_eq!(results[1]["changed"], false);
    assert_eq!(results[2]["runtimes"].as_array().unwrap().len(), 2);
    assert_eq!(results[3]["changed"], true);
    assert_eq!(results[4]["changed"], false);
    assert!(installed().is_empty(), "{:?}", installed());
}
