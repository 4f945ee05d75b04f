//! The Arch Linux news before an upgrade, from the recorded real feed
//! (`archlinux-news-feed.2020-04-14.rss.xml`, 10 items) served on
//! 127.0.0.1: `omg sync` and each upgrade fetch it into omgd's store;
//! what was published since the last upgrade is shown before the plan;
//! an item naming a package the upgrade changes, or asking for manual
//! intervention, makes the default answer no — so Enter and `--noconfirm`
//! both stop there; `omg news` lists what is unread, `--all` what is
//! kept; pacman's own "starting full system upgrade" counts as the last
//! upgrade.

mod common;

use common::arch::{ArchRoot, Spec};
use common::http::FileServer;
use common::{Run, upstream_fixture};

const FEED: &str = "pacman/archlinux-news-feed.2020-04-14.rss.xml";

/// The recorded feed as it was before `first` was published: its items
/// from `first` on, in the feed's own format.
fn feed_from(first: &str) -> Vec<u8> {
    let feed = String::from_utf8(upstream_fixture(FEED)).unwrap();
    let start = feed.find("<item>").unwrap();
    let keep = feed
        .find(&format!("<item><title>{first}"))
        .expect("the item is in the feed");
    format!("{}{}", &feed[..start], &feed[keep..]).into_bytes()
}

fn serve(feed: Vec<u8>) -> FileServer {
    let server = FileServer::start();
    server.put("/feeds/news/", feed);
    server
}

fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// The installed version, as pacman reads the root.
fn installed(root: &ArchRoot, name: &str) -> String {
    root.pacman_query(&["-Q", name])
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

fn titles(news: &serde_json::Value) -> Vec<String> {
    news["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect()
}

fn said(run: &Run) -> String {
    format!("{}{}", run.stdout, run.stderr)
}

#[test]
fn news_naming_a_planned_package_stops_the_upgrade_at_its_question() {
    let root = ArchRoot::new(&[
        Spec::new("openssh", "8.1p1-1", "an ssh for the test"),
        Spec::new("omg-plain", "1.0-1", "news names nothing of it"),
    ]);
    let server = serve(feed_from("sshd needs restarting"));
    let mut env = root.omg_env();
    env.news_url = format!("{}/feeds/news/", server.url());
    ok(&env.omg(&[
        "install",
        "openssh",
        "omg-plain",
        "--refresh",
        "--noconfirm",
    ]));

    let news = env.json(&["news", "--json"]);
    assert!(news["fetched"].is_null(), "not fetched yet: {news}");
    assert!(
        env.omg(&["news"])
            .stdout
            .contains("has not been fetched yet"),
        "said so"
    );
    ok(&env.omg(&["sync"]));
    // The machine was last upgraded (by pacman) after the Xorg item.
    let log = root.path("root/var/log/pacman.log");
    let mut text = std::fs::read_to_string(&log).unwrap_or_default();
    text.push_str("[2019-12-21T00:00:00+0000] [PACMAN] starting full system upgrade\n");
    std::fs::write(&log, text).unwrap();
    let news = env.json(&["news", "--json"]);
    assert_eq!(news["source"], "arch");
    assert_eq!(
        titles(&news),
        [
            "sshd needs restarting after upgrading to openssh-8.2p1",
            "rsync compatibility",
            "Now using Zstandard instead of xz for package compression",
        ],
        "published since the last upgrade"
    );
    assert!(
        news["items"][0]["text"]
            .as_str()
            .unwrap()
            .contains("systemctl restart sshd"),
        "{news}"
    );

    root.publish(&[Spec::new("openssh", "8.2p1-1", "an ssh for the test")]);
    // Enter at the news question: the default is no.
    let run = env.omg_with_input(&["upgrade"], "\n");
    assert_eq!(run.code, 1, "{}", said(&run));
    let text = said(&run);
    assert!(
        text.contains("sshd needs restarting after upgrading to openssh-8.2p1")
            && text.contains("it names openssh, which this upgrade changes")
            && text.contains("Go on with the upgrade after this news? [y/N]"),
        "{text}"
    );
    assert!(
        text.find("sshd needs restarting").unwrap() < text.find("Go on with the upgrade").unwrap(),
        "the news comes before the question: {text}"
    );
    assert_eq!(installed(&root, "openssh"), "8.1p1-1", "nothing installed");
    // --noconfirm takes the same default.
    let run = env.omg(&["upgrade", "--noconfirm"]);
    assert_eq!(run.code, 1, "{}", said(&run));
    assert!(
        said(&run).contains("--noconfirm does not go past this news"),
        "{}",
        said(&run)
    );
    assert_eq!(installed(&root, "openssh"), "8.1p1-1");

    // Read and answered yes: the upgrade goes on, and the news is read.
    ok(&env.omg_with_input(&["upgrade"], "y\ny\n"));
    assert_eq!(installed(&root, "openssh"), "8.2p1-1");
    assert_eq!(titles(&env.json(&["news", "--json"])), Vec::<String>::new());
    assert!(
        env.omg(&["news"])
            .stdout
            .contains("no news since the last upgrade"),
        "said so"
    );
    assert_eq!(titles(&env.json(&["news", "--all", "--json"])).len(), 4);

    // Nothing unread: the next upgrade asks nothing about news.
    root.publish(&[Spec::new("omg-plain", "2.0-1", "news names nothing of it")]);
    let run = env.omg(&["upgrade", "--noconfirm"]);
    ok(&run);
    assert!(!said(&run).contains("news of"), "{}", said(&run));
    assert_eq!(installed(&root, "omg-plain"), "2.0-1");
}

#[test]
fn noconfirm_does_not_get_past_a_manual_intervention_item() {
    let root = ArchRoot::new(&[Spec::new("omg-plain", "1.0-1", "news names nothing of it")]);
    let server = serve(upstream_fixture(FEED));
    let mut env = root.omg_env();
    env.news_url = format!("{}/feeds/news/", server.url());
    ok(&env.omg(&["install", "omg-plain", "--refresh", "--noconfirm"]));
    root.publish(&[Spec::new("omg-plain", "2.0-1", "news names nothing of it")]);

    // The upgrade fetches the news itself; the newest item asks for
    // manual intervention.
    let run = env.omg(&["upgrade", "--noconfirm"]);
    assert_eq!(run.code, 1, "{}", said(&run));
    let text = said(&run);
    assert!(
        text.contains("zn_poly 0.9.2-2 update requires manual intervention")
            && text.contains("it requires manual intervention")
            && text.contains("Go on with the upgrade after this news? [no]"),
        "{text}"
    );
    assert!(
        text.contains("pacman -Syu --overwrite usr/lib/libzn_poly-0.9.so"),
        "the item's text, as text: {text}"
    );
    assert_eq!(installed(&root, "omg-plain"), "1.0-1");

    // `show` only shows news, but not past manual intervention.
    env.configure("backend = \"alpm\"\n[upgrade]\nnews = \"show\"\n");
    let run = env.omg(&["upgrade", "--noconfirm"]);
    assert_eq!(run.code, 1, "{}", said(&run));
    assert_eq!(installed(&root, "omg-plain"), "1.0-1");

    // pacman's own full upgrade counts: since 2020-04-14 00:00 one item
    // is unread.
    std::fs::write(
        root.path("root/var/log/pacman.log"),
        "[2020-04-14T00:00:00+0000] [PACMAN] starting full system upgrade\n",
    )
    .unwrap();
    assert_eq!(
        titles(&env.json(&["news", "--json"])),
        ["zn_poly 0.9.2-2 update requires manual intervention"]
    );

    // `off`: nothing is read, the upgrade goes on.
    env.configure("backend = \"alpm\"\n[upgrade]\nnews = \"off\"\n");
    let run = env.omg(&["upgrade", "--noconfirm"]);
    ok(&run);
    assert!(!said(&run).contains("news of"), "{}", said(&run));
    assert_eq!(installed(&root, "omg-plain"), "2.0-1");
    assert_eq!(titles(&env.json(&["news", "--json"])), Vec::<String>::new());
}
