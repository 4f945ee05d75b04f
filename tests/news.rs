//! The news of an upgrade on Debian: a package's new version ships
//! `NEWS.Debian` with an entry for itself and one for an older version;
//! before dpkg runs, omg shows the entry newer than the installed
//! version and asks (`[upgrade] news = ask`): "n" installs nothing,
//! `--noconfirm` shows it and goes on, `news = off` does not read it.

mod common;

use common::deb::DebRoot;
use common::http::FileServer;

const NEWS: &str = "\
omg-app (2.0) unstable; urgency=medium

  The configuration moved to /etc/omg-app/main.conf; the old file is
  read one last time and renamed.

 -- Test <test@example.org>  Mon, 02 Dec 2026 10:00:00 +0000

omg-app (1.0) unstable; urgency=medium

  First release: nothing to migrate.

 -- Test <test@example.org>  Mon, 02 Dec 2025 10:00:00 +0000
";

fn publish(root: &DebRoot, server: &FileServer, name: &str, version: &str) {
    root.publish();
    for file in [format!("{name}_{version}_all.deb"), "Packages".to_string()] {
        server.put(
            &format!("/./{file}"),
            std::fs::read(root.path(&format!("repo/{file}"))).unwrap(),
        );
    }
}

fn installed(root: &DebRoot, name: &str) -> Option<String> {
    root.installed()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

#[test]
fn the_news_of_an_upgrade_is_shown_before_dpkg_runs_and_asked_about() {
    let root = DebRoot::new();
    root.add("omg-app", "1.0", "");
    root.add("omg-quiet", "1.0", "");
    root.publish();
    let server = root.serve_over_http();
    let env = root.env();
    let run = env.omg(&["install", "omg-app", "omg-quiet", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    root.add_with_news("omg-app", "2.0", NEWS);
    publish(&root, &server, "omg-app", "2.0");
    // Answered: yes to the plan, no after the news.
    let run = env.omg_with_input(&["upgrade"], "y\nn\n");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("cancelled"), "{}", run.stderr);
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(
        said.contains("news of omg-app 2.0")
            && said.contains("/etc/omg-app/main.conf")
            && said.contains("Go on with the upgrade after this news?"),
        "{said}"
    );
    assert!(
        !said.contains("First release"),
        "only what is newer: {said}"
    );
    assert_eq!(
        installed(&root, "omg-app").as_deref(),
        Some("1.0"),
        "nothing installed"
    );

    // --noconfirm: shown, and the upgrade goes on.
    let run = env.omg(&["upgrade", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(said.contains("news of omg-app 2.0"), "{said}");
    assert_eq!(installed(&root, "omg-app").as_deref(), Some("2.0"));

    // omg news: what the last upgrade installed, from the installed
    // package's documentation.
    let news = env.json(&["news", "--json"]);
    assert_eq!(news["source"], "debian");
    let items = news["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{news}");
    assert_eq!(items[0]["title"], "omg-app 2.0");
    assert_eq!(items[0]["package"], "omg-app");
    assert!(
        items[0]["text"]
            .as_str()
            .unwrap()
            .contains("/etc/omg-app/main.conf"),
        "{news}"
    );
    let shown = env.omg(&["news"]);
    assert!(shown.stdout.contains("omg-app 2.0"), "{}", shown.stdout);
    assert!(!shown.stdout.contains("First release"), "{}", shown.stdout);

    // news = off: not read at all.
    env.configure("[upgrade]\nnews = \"off\"\n");
    root.add_with_news("omg-quiet", "2.0", &NEWS.replace("omg-app", "omg-quiet"));
    publish(&root, &server, "omg-quiet", "2.0");
    let run = env.omg(&["upgrade", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(!said.contains("news of"), "{said}");
    assert_eq!(installed(&root, "omg-quiet").as_deref(), Some("2.0"));
}
