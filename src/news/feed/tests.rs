use super::*;

const FEED: &str =
    include_str!("../../../tests/fixtures/upstream/pacman/archlinux-news-feed.2020-04-14.rss.xml");

fn item(title: &str, text: &str) -> FeedItem {
    FeedItem {
        id: title.into(),
        title: title.into(),
        link: String::new(),
        published: 0,
        text: text.into(),
    }
}

#[test]
fn the_recorded_arch_feed_reads_as_ten_dated_items_newest_first() {
    let items = parse(FEED).unwrap();
    assert_eq!(items.len(), 10);
    assert_eq!(
        items[0].title,
        "zn_poly 0.9.2-2 update requires manual intervention"
    );
    // Tue, 14 Apr 2020 16:30:30 +0000
    assert_eq!(items[0].published, 1_586_881_830);
    assert_eq!(
        items[1].title,
        "nss>=3.51.1-1 and lib32-nss>=3.51.1-1 updates require manual intervention"
    );
    assert!(items.windows(2).all(|w| w[0].published >= w[1].published));
    assert_eq!(
        items[0].id,
        "tag:www.archlinux.org,2020-04-14:/news/zn_poly-092-2-update-requires-manual-intervention/"
    );
    // The escaped HTML became text: no tags, the command on its own line.
    assert!(!items[0].text.contains('<'), "{}", items[0].text);
    assert!(
        items[0]
            .text
            .lines()
            .any(|l| l == "pacman -Syu --overwrite usr/lib/libzn_poly-0.9.so"),
        "{}",
        items[0].text
    );
}

#[test]
fn a_document_that_is_not_rss_is_an_error() {
    assert!(matches!(
        parse("<html><body/></html>"),
        Err(FeedError::NotRss)
    ));
    assert!(matches!(
        parse("<rss><channel><item></channel>"),
        Err(FeedError::Xml(_))
    ));
}

#[test]
fn html_becomes_paragraphs_with_entities_decoded() {
    assert_eq!(
        html_to_text(
            "<p>a &amp; b</p><p>c&#39;s <a href=\"x\">link</a></p><ul><li>one</li><li>two</li></ul>"
        ),
        "a & b\n\nc's link\n\n- one\n- two"
    );
}

#[test]
fn manual_intervention_or_a_planned_name_needs_attention() {
    let items = parse(FEED).unwrap();
    let zn = &items[0];
    assert_eq!(
        attention(zn, &["bash"]).as_deref(),
        Some("it requires manual intervention")
    );
    let sshd = items
        .iter()
        .find(|i| i.title.starts_with("sshd needs restarting"))
        .unwrap();
    assert_eq!(
        attention(sshd, &["openssh"]).as_deref(),
        Some("it names openssh, which this upgrade changes")
    );
    assert_eq!(attention(sshd, &["ssh", "open", "bash"]), None);
    // "As an end-user no manual intervention is required".
    let zstd = items
        .iter()
        .find(|i| i.title.starts_with("Now using Zstandard"))
        .unwrap();
    assert_eq!(attention(zstd, &["bash"]), None);
    assert!(attention(&item("x", "It needs manual intervention."), &[]).is_some());
    assert!(attention(&item("x", "This does not need manual intervention."), &[]).is_none());
    // A name inside another one is not it.
    let nss = item("lib32-nss>=3.51.1-1 update", "");
    assert_eq!(attention(&nss, &["nss"]), None);
    assert!(attention(&nss, &["lib32-nss"]).is_some());
    assert!(attention(&item("rsync compatibility", ""), &["rsync"]).is_some());
    assert!(attention(&item("About python.", ""), &["python"]).is_some());
    assert!(attention(&item("python-foo is gone", ""), &["python"]).is_none());
}

#[test]
fn kept_items_merge_with_fetched_ones_once_each() {
    let mut old = item("old", "");
    old.published = 1;
    let mut same = item("same", "before");
    same.published = 2;
    let mut fetched_same = item("same", "after");
    fetched_same.published = 2;
    let mut new = item("new", "");
    new.published = 3;
    let merged = merge(vec![old, same], vec![new, fetched_same]);
    let titles: Vec<&str> = merged.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles, ["new", "same", "old"]);
    assert_eq!(merged[1].text, "after");
    assert_eq!(since(&merged, Some(1)).len(), 2);
    assert_eq!(since(&merged, None).len(), 3);
}

#[test]
fn pacman_logs_its_last_full_upgrade() {
    let log = "\
[2020-04-10T08:00:00+0000] [PACMAN] starting full system upgrade
[2020-04-10T08:01:00+0000] [ALPM] upgraded bash (5.0-1 -> 5.0-2)
[2020-04-12T10:00:00+0200] [PACMAN] starting full system upgrade
[2020-04-13T10:00:00+0000] [PACMAN] Running 'pacman -S vim'
";
    // 2020-04-12 08:00:00 UTC
    assert_eq!(last_full_upgrade(log), Some(1_586_678_400));
    assert_eq!(
        last_full_upgrade("[2019-01-02 03:04] [PACMAN] starting full system upgrade\n"),
        Some(1_546_398_240)
    );
    assert_eq!(
        last_full_upgrade("[2020-04-13T10:00:00+0000] [ALPM] transaction started\n"),
        None
    );
}
