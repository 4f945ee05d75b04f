//! omg compares Arch versions without libalpm (the AUR resolver, the
//! command line); this checks it agrees with the libalpm this build links.

use super::libalpm;

#[test]
fn omg_compares_versions_as_this_libalpm_does() {
    let versions = [
        "1",
        "1.0",
        "1.0-1",
        "1.0-2",
        "1:0.9",
        "2.0rc1",
        "2.0",
        "2.0.a",
        "2.0_1",
        "10",
        "1.0.0",
        "0.99",
        "1.0a",
        "1.0.r5.g123",
        "1.0beta",
        "r1",
        "1.2.3-1.1",
        "~1",
    ];
    for a in versions {
        for b in versions {
            assert_eq!(
                omg::version::vercmp(a, b),
                libalpm::vercmp(a, b),
                "vercmp {a} {b}"
            );
        }
    }
}
