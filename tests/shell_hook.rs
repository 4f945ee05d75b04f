//! The shell hook in real bash, zsh and fish: `cd` into a project whose
//! version file asks for node 20 puts that node first on PATH; leaving puts
//! back exactly what was there; PATH never grows from prompt to prompt.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Env, OMG};

/// Lays out two installed node versions (scripts that print their
/// version) and a project asking for 20.
fn layout(env: &Env) -> std::path::PathBuf {
    let versions = env.data_dir().join("versions/node");
    for version in ["18.19.0", "20.10.0"] {
        let bin = versions.join(version).join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let node = bin.join("node");
        std::fs::write(&node, format!("#!/bin/sh\necho v{version}\n")).unwrap();
        std::fs::set_permissions(&node, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
    let project = env.dir.path().join("project");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(project.join(".nvmrc"), "20\n").unwrap();
    project
}

fn shell(env: &Env, program: &str, script: &str, cwd: &Path) -> String {
    let out = env
        .command(program)
        .args(["-c", script])
        .current_dir(cwd)
        .env("PATH", "/usr/bin:/bin")
        .env_remove("__OMG_STATE")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn lines(out: &str) -> Vec<&str> {
    out.lines().collect()
}

#[test]
fn bash_switches_on_cd_and_restores_on_leaving() {
    let env = Env::new();
    let omg = *OMG;
    let project = layout(&env);
    let script = format!(
        "eval \"$({omg} hook bash)\"\n\
         before=$PATH\n\
         cd project/src; _omg_hook; node\n\
         _omg_hook; _omg_hook; p1=$PATH; _omg_hook; [ \"$p1\" = \"$PATH\" ] && echo stable\n\
         cd ../..; _omg_hook; case \"$(command -v node)\" in *versions*) echo still-ours;; *) echo outside;; esac\n\
         [ \"$before\" = \"$PATH\" ] && echo restored\n"
    );
    let out = shell(&env, "bash", &script, project.parent().unwrap());
    assert_eq!(
        lines(&out),
        ["v20.10.0", "stable", "outside", "restored"],
        "{out}"
    );
}

#[test]
fn the_global_version_applies_outside_projects() {
    let env = Env::new();
    let omg = *OMG;
    let project = layout(&env);
    std::os::unix::fs::symlink("18.19.0", env.data_dir().join("versions/node/current")).unwrap();
    let script = format!(
        "eval \"$({omg} hook bash)\"\n\
         node\n\
         cd project; _omg_hook; node\n\
         cd ..; _omg_hook; node\n"
    );
    let out = shell(&env, "bash", &script, project.parent().unwrap());
    assert_eq!(lines(&out), ["v18.19.0", "v20.10.0", "v18.19.0"], "{out}");
}

#[test]
fn zsh_switches_once_per_prompt() {
    if !Path::new("/usr/bin/zsh").exists() {
        common::skip_test("zsh is not installed (scripts/install-deps.sh installs it)");
        return;
    }
    let env = Env::new();
    let omg = *OMG;
    let project = layout(&env);
    let script = format!(
        "eval \"$({omg} hook zsh)\"\n\
         before=$PATH\n\
         cd project; _omg_hook; node\n\
         print -r -- ${{#precmd_functions}}\n\
         eval \"$({omg} hook zsh)\"; print -r -- ${{#precmd_functions}}\n\
         cd ..; _omg_hook; [[ $(whence -p node) == *versions* ]] && echo still-ours || echo outside\n\
         [[ $before == $PATH ]] && echo restored\n"
    );
    let out = shell(&env, "zsh", &script, project.parent().unwrap());
    assert_eq!(
        lines(&out),
        ["v20.10.0", "1", "1", "outside", "restored"],
        "{out}"
    );
}

#[test]
fn fish_switches_on_cd() {
    if !Path::new("/usr/bin/fish").exists() {
        common::skip_test("fish is not installed (scripts/install-deps.sh installs it)");
        return;
    }
    let env = Env::new();
    let omg = *OMG;
    let project = layout(&env);
    let script = format!(
        "{omg} hook fish | source\n\
         set before $PATH\n\
         cd project; __omg_hook; node\n\
         cd ..; __omg_hook; if string match -q '*versions*' -- (command -v node); echo still-ours; else; echo outside; end\n\
         test (string join : $before) = (string join : $PATH); and echo restored\n"
    );
    let out = shell(&env, "fish", &script, project.parent().unwrap());
    assert_eq!(lines(&out), ["v20.10.0", "outside", "restored"], "{out}");
}

#[test]
fn a_version_that_is_not_installed_is_named_once() {
    let env = Env::new();
    let project = layout(&env);
    std::fs::write(project.join(".nvmrc"), "22\n").unwrap();
    let out = env
        .command(*OMG)
        .args(["hook-env", "bash"])
        .current_dir(&project)
        .env_remove("__OMG_STATE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("node 22"), "{stderr}");
    assert!(stderr.contains("omg install node 22"), "{stderr}");
    // Nothing changed since: silence (and no output at all).
    let state = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("export __OMG_STATE="))
        .map(|v| v.trim_end_matches(';').trim_matches('\'').to_string())
        .unwrap();
    let again = Command::new(*OMG)
        .args(["hook-env", "bash"])
        .current_dir(&project)
        .env("OMG_DATA_DIR", env.data_dir())
        .env("__OMG_STATE", state)
        .output()
        .unwrap();
    assert!(again.stdout.is_empty() && again.stderr.is_empty());
}

#[test]
fn a_project_set_up_for_mise_works_unchanged() {
    let env = Env::new();
    let omg = *OMG;
    let project = layout(&env);
    std::fs::remove_file(project.join(".nvmrc")).unwrap();
    // mise's files, local over shared; [env] over .env; _.path first.
    std::fs::write(
        project.join("mise.toml"),
        "[tools]\nnode = \"18\"\n\n[env]\nGREETING = \"from mise\"\nPORT = 8080\n_.path = [\"./tools\"]\n",
    )
    .unwrap();
    std::fs::write(project.join("mise.local.toml"), "[tools]\nnode = \"20\"\n").unwrap();
    std::fs::write(
        project.join(".env"),
        "GREETING=from dotenv\nSECRET='s3 cret'\n",
    )
    .unwrap();
    let tools = project.join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    let tool = tools.join("project-tool");
    std::fs::write(&tool, "#!/bin/sh\necho project tool\n").unwrap();
    std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let script = format!(
        "eval \"$({omg} hook bash)\"\n\
         export GREETING=before\n\
         cd project/src; _omg_hook; node; echo \"${{GREETING:-unset}}|${{PORT:-unset}}|${{SECRET:-unset}}\"\n\
         cd ../..; _omg_hook; echo \"${{GREETING:-unset}}|${{PORT:-unset}}|${{SECRET:-unset}}\"\n"
    );
    // Without [hook] env: the versions only.
    let out = shell(&env, "bash", &script, project.parent().unwrap());
    assert_eq!(
        lines(&out),
        ["v20.10.0", "before|unset|unset", "before|unset|unset"],
        "{out}"
    );
    // With it: exported inside, put back as they were on leaving.
    env.configure("[hook]\nenv = true\n");
    let script = script.replace("node; echo", "node; project-tool; echo");
    let out = shell(&env, "bash", &script, project.parent().unwrap());
    assert_eq!(
        lines(&out),
        [
            "v20.10.0",
            "project tool",
            "from mise|8080|s3 cret",
            "before|unset|unset"
        ],
        "{out}"
    );
}
