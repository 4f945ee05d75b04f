//! Config files an upgrade leaves: a Debian root (served over HTTP, so
//! apt keeps the downloaded packages in its cache) whose package ships a
//! conffile the admin edited. Each new version leaves a `.dpkg-dist`
//! (omg runs dpkg with `--force-confold`), which the transaction reports,
//! the history records with the package and the version before, the
//! status file, `omg status`, D-Bus-free readers (`omg-fast`) and the
//! metrics count; `omg merge` merges it three ways against the packaged
//! original from the cache, keeps the file in use, or takes the new one.

mod common;

use common::deb::DebRoot;
use common::http::FileServer;

const CONF_V1: &str = "port = 80\nname = x\nlog = info\n";

fn ok(run: &common::Run) {
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

/// Publishes `version` of omg-conf with `conf` as its conffile, on the
/// repository and its HTTP server.
fn publish(root: &DebRoot, server: &FileServer, version: &str, conf: &str) {
    root.add_with_conffile("omg-conf", version, conf);
    root.publish();
    for file in [
        format!("omg-conf_{version}_all.deb"),
        "Packages".to_string(),
    ] {
        server.put(
            &format!("/./{file}"),
            std::fs::read(root.path(&format!("repo/{file}"))).unwrap(),
        );
    }
}

#[test]
fn an_edited_conffile_is_recorded_and_merged_kept_or_replaced() {
    let root = DebRoot::new();
    root.add_with_conffile("omg-conf", "1.0", CONF_V1);
    root.publish();
    let server = root.serve_over_http();
    let env = root.env();
    ok(&env.omg(&["install", "omg-conf", "--noconfirm"]));
    let conf = root.path("etc/omg-conf.conf");
    let dist = root.path("etc/omg-conf.conf.dpkg-dist");
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), CONF_V1);
    // The admin changes the port.
    std::fs::write(&conf, "port = 8080\nname = x\nlog = info\n").unwrap();
    assert_eq!(env.omg_fast(&["merges"]), "0");

    // 2.0 changes the log level.
    publish(&root, &server, "2.0", "port = 80\nname = x\nlog = debug\n");
    let run = env.omg(&["upgrade", "--noconfirm"]);
    ok(&run);
    assert!(
        run.stderr.contains("omg merge") || run.stdout.contains("omg merge"),
        "the upgrade says so: {}{}",
        run.stdout,
        run.stderr
    );
    assert!(dist.is_file(), "dpkg left the new version beside it");
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "port = 8080\nname = x\nlog = info\n",
        "the admin's file is in use"
    );
    // Recorded, with where it comes from.
    let history = env.json(&["history", "--json"]);
    let newest = &history[0];
    assert_eq!(
        newest["config_files"][0]["package"], "omg-conf",
        "{history}"
    );
    assert_eq!(newest["config_files"][0]["old_version"], "1.0");
    let listed = env.json(&["merge", "--list", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["target"], conf.display().to_string());
    let base = listed[0]["base"].as_str().expect("the packaged original");
    assert_eq!(std::fs::read_to_string(base).unwrap(), CONF_V1);
    // Counted for prompts, omg status and the metrics.
    assert_eq!(env.omg_fast(&["merges"]), "1");
    assert_eq!(env.json(&["status", "--json"])["config_merges"], 1);
    let metrics = env.omg(&["status", "--prometheus"]);
    assert!(
        metrics
            .stdout
            .lines()
            .any(|l| l == "omg_config_merges_pending 1"),
        "{}",
        metrics.stdout
    );

    // Merged three ways: the admin's port and the package's log level.
    let run = env.omg_with_input(&["merge"], "m\n");
    ok(&run);
    assert!(
        run.stdout.contains("-log = info") && run.stdout.contains("+log = debug"),
        "the diff is shown first: {}",
        run.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "port = 8080\nname = x\nlog = debug\n"
    );
    assert!(!dist.exists());
    assert_eq!(env.omg_fast(&["merges"]), "0");
    let run = env.omg(&["merge"]);
    ok(&run);
    assert!(
        run.stdout.contains("no config file waits"),
        "{}",
        run.stdout
    );
    // A file named that waits for nothing: a usage error, nothing touched.
    let run = env.omg(&["merge", "--keep", conf.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("has no file waiting for a merge"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "port = 8080\nname = x\nlog = debug\n"
    );

    // 3.0: kept as it is.
    publish(&root, &server, "3.0", "port = 80\nname = y\nlog = debug\n");
    ok(&env.omg(&["upgrade", "--noconfirm"]));
    assert!(dist.is_file());
    let run = env.omg_with_input(&["merge"], "k\n");
    ok(&run);
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "port = 8080\nname = x\nlog = debug\n"
    );
    assert!(!dist.exists());

    // 4.0: replaced by the packaged file, for every file at once.
    let v4 = "port = 443\nname = z\nlog = warn\n";
    publish(&root, &server, "4.0", v4);
    ok(&env.omg(&["upgrade", "--noconfirm"]));
    let listed = env.json(&["merge", "--list", "--json"]);
    assert_eq!(listed[0]["old_version"], "3.0");
    ok(&env.omg(&["merge", "--take"]));
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), v4);
    assert!(!dist.exists());
    assert_eq!(env.json(&["status", "--json"])["config_merges"], 0);
}

#[test]
fn on_arch_a_pacnew_is_merged_against_the_cached_package_and_a_pacsave_is_kept() {
    use common::arch::{ArchRoot, Spec};
    let v1 = Spec {
        config: &["port = 80", "name = x", "log = info"],
        ..Spec::new("omg-conf-arch", "1.0-1", "a package with a backup file")
    };
    let root = ArchRoot::new(&[v1]);
    let env = root.omg_env();
    ok(&env.omg(&["install", "omg-conf-arch", "--refresh", "--noconfirm"]));
    let conf = root.path("root/etc/omg-conf-arch.conf");
    let pacnew = root.path("root/etc/omg-conf-arch.conf.pacnew");
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), CONF_V1);
    std::fs::write(&conf, "port = 8080\nname = x\nlog = info\n").unwrap();

    root.publish(&[Spec {
        config: &["port = 80", "name = x", "log = debug"],
        ..Spec::new("omg-conf-arch", "2.0-1", "a package with a backup file")
    }]);
    ok(&env.omg(&["upgrade", "--noconfirm"]));
    assert!(pacnew.is_file(), "pacman left the new version beside it");
    let listed = env.json(&["merge", "--list", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["package"], "omg-conf-arch");
    assert_eq!(listed[0]["old_version"], "1.0-1");
    let base = listed[0]["base"].as_str().expect("the packaged original");
    assert_eq!(std::fs::read_to_string(base).unwrap(), CONF_V1);
    ok(&env.omg(&["merge", "--merge"]));
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "port = 8080\nname = x\nlog = debug\n"
    );
    assert!(!pacnew.exists());

    // Removed: pacman saves the changed file as .pacsave.
    ok(&env.omg(&["remove", "omg-conf-arch", "--noconfirm"]));
    let pacsave = root.path("root/etc/omg-conf-arch.conf.pacsave");
    assert!(pacsave.is_file());
    let listed = env.json(&["merge", "--list", "--json"]);
    assert_eq!(listed[0]["path"], pacsave.display().to_string(), "{listed}");
    let refused = env.omg(&["merge", "--merge"]);
    assert_eq!(refused.code, 1, "an old version is not merged");
    ok(&env.omg(&["merge", "--keep"]));
    assert!(!pacsave.exists());
    assert_eq!(
        env.json(&["merge", "--list", "--json"]),
        serde_json::json!([])
    );
}
