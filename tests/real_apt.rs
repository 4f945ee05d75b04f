//! `omg` against this machine's own apt database, compared with what apt,
//! apt-cache, apt-mark and dpkg-query report for the same questions.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Env, hit_names, names, system};

/// The fields of the first stanza of `apt-cache show` / `dpkg -s` style output.
fn stanza(text: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(key) = &last {
                let value: &mut String = fields.get_mut(key).unwrap();
                value.push('\n');
                value.push_str(line);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            fields.insert(k.to_string(), v.trim().to_string());
            last = Some(k.to_string());
        }
    }
    fields
}

fn relations(field: Option<&String>) -> serde_json::Value {
    let list: Vec<String> = field
        .map(|f| {
            f.split(',')
                .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!(list)
}

fn installed_names() -> BTreeSet<String> {
    system(
        "dpkg-query",
        &["-W", "-f", "${binary:Package} ${db:Status-Status}\\n"],
    )
    .lines()
    .filter_map(|l| l.strip_suffix(" installed"))
    .map(|n| n.split(':').next().unwrap().to_string())
    .collect()
}

#[test]
fn search_finds_everything_apt_finds_by_name() {
    let env = Env::new();
    for query in ["vim", "python3", "libssl", "zstd"] {
        let apt: BTreeSet<String> = system("apt-cache", &["search", "--names-only", query])
            .lines()
            .filter_map(|l| l.split(" - ").next())
            .map(str::to_string)
            .collect();
        assert!(
            !apt.is_empty(),
            "apt-cache found nothing for {query}: run apt-get update"
        );
        let results = env.json(&["search", "--json", "--limit", "0", query]);
        let omg: BTreeSet<String> = hit_names(&results).into_iter().collect();
        let missing: Vec<_> = apt.difference(&omg).collect();
        assert!(missing.is_empty(), "{query}: omg misses {missing:?}");
        assert_eq!(results["total"].as_u64().unwrap() as usize, omg.len());
    }
    for exact in ["vim", "python3", "zstd"] {
        let results = env.json(&["search", "--json", exact]);
        assert_eq!(results["hits"][0]["name"], exact);
        assert_eq!(results["hits"][0]["matched"], "exact");
        assert_eq!(
            results["hits"].as_array().unwrap().len(),
            50,
            "default limit"
        );
    }
}

/// `omg __complete` gives the names `apt-cache pkgnames` gives (what apt's
/// own bash completion asks), in name order; past a thousand names, the
/// first ones and the range's last, so a shell completes the prefix they
/// all share and no more.
#[test]
fn completion_matches_apt_cache_pkgnames() {
    let env = Env::new();
    let pkgnames = |prefix: &str| -> Vec<String> {
        let names: BTreeSet<String> = system("apt-cache", &["pkgnames", prefix])
            .lines()
            .map(str::to_string)
            .collect();
        names.into_iter().collect()
    };
    let complete = |prefix: &str| -> Vec<String> {
        let run = env.omg(&["__complete", prefix]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout.lines().map(str::to_string).collect()
    };
    for prefix in ["vi", "zs", "python3-dj", "x"] {
        let apt = pkgnames(prefix);
        assert!(
            !apt.is_empty() && apt.len() < 1000,
            "{prefix}: {}",
            apt.len()
        );
        assert_eq!(complete(prefix), apt, "{prefix}");
    }
    for prefix in ["li", "g"] {
        let apt = pkgnames(prefix);
        assert!(apt.len() > 1000, "{prefix}: {}", apt.len());
        let omg = complete(prefix);
        assert_eq!(omg.len(), 1000, "{prefix}");
        assert_eq!(omg[..999], apt[..999], "{prefix}");
        assert_eq!(omg.last(), apt.last(), "{prefix}");
    }
    assert!(complete("nothing-is-called-this").is_empty());
}

#[test]
fn list_matches_dpkg_and_apt() {
    let env = Env::new();
    let listed: BTreeSet<String> = names(&env.json(&["list", "--json"])).into_iter().collect();
    assert_eq!(listed, installed_names());

    let explicit: BTreeSet<String> = names(&env.json(&["list", "--explicit", "--json"]))
        .into_iter()
        .collect();
    let manual: BTreeSet<String> = system("apt-mark", &["showmanual"])
        .lines()
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect();
    assert_eq!(explicit, manual);

    let upgradable: BTreeSet<String> = names(&env.json(&["list", "--upgradable", "--json"]))
        .into_iter()
        .collect();
    let apt_upgradable: BTreeSet<String> = system("apt", &["list", "--upgradable"])
        .lines()
        .filter_map(|l| l.split_once('/').map(|(n, _)| n.to_string()))
        .collect();
    assert_eq!(upgradable, apt_upgradable);

    let status = env.json(&["status", "--json"]);
    assert_eq!(status["installed"].as_u64().unwrap() as usize, listed.len());
    assert_eq!(
        status["upgradable"].as_u64().unwrap() as usize,
        upgradable.len()
    );
}

#[test]
fn info_agrees_with_dpkg_for_an_installed_package() {
    let env = Env::new();
    let list = env.json(&["list", "--json"]);
    let candidates = ["dpkg", "bash", "coreutils", "apt", "tar", "grep"];
    let name = candidates
        .iter()
        .find(|n| {
            list.as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == **n && p["candidate_version"].is_null())
        })
        .expect("one of the base packages is installed and up to date");
    let info = &env.json(&["info", "--json", name])[0];
    let dpkg = stanza(&system("dpkg-query", &["-s", name]));
    assert_eq!(info["installed_version"].as_str().unwrap(), dpkg["Version"]);
    assert_eq!(info["version"].as_str().unwrap(), dpkg["Version"]);
    assert_eq!(info["maintainer"].as_str().unwrap(), dpkg["Maintainer"]);
    assert_eq!(info["section"].as_str().unwrap(), dpkg["Section"]);
    assert_eq!(info["priority"].as_str().unwrap(), dpkg["Priority"]);
    let kib: u64 = dpkg["Installed-Size"].parse().unwrap();
    assert_eq!(info["installed_size"].as_u64().unwrap(), kib * 1024);
    assert_eq!(info["depends"], relations(dpkg.get("Depends")));
    assert_eq!(info["pre_depends"], relations(dpkg.get("Pre-Depends")));
    let summary = dpkg["Description"].lines().next().unwrap();
    assert_eq!(info["summary"].as_str().unwrap(), summary);
    assert_eq!(
        info["essential"],
        dpkg.get("Essential").is_some_and(|e| e == "yes")
    );
    let manual = system("apt-mark", &["showmanual"]);
    let explicit = manual.lines().any(|l| l == *name);
    assert_eq!(
        info["install_reason"],
        if explicit { "explicit" } else { "dependency" }
    );
}

#[test]
fn info_agrees_with_apt_cache_for_a_package_not_installed() {
    let env = Env::new();
    let installed = installed_names();
    let name = ["cowsay", "sl", "figlet", "fortune-mod", "hello", "vim-gtk3"]
        .into_iter()
        .find(|n| !installed.contains(*n))
        .expect("one of the sample packages is not installed");
    let info = &env.json(&["info", "--json", name])[0];
    let candidate = info["candidate_version"].as_str().expect("a candidate");
    assert_eq!(info["installed_version"], serde_json::Value::Null);
    assert_eq!(info["install_reason"], serde_json::Value::Null);
    let show = stanza(&system(
        "apt-cache",
        &["show", &format!("{name}={candidate}")],
    ));
    assert_eq!(candidate, show["Version"]);
    assert_eq!(info["architecture"].as_str().unwrap(), show["Architecture"]);
    assert_eq!(info["maintainer"].as_str().unwrap(), show["Maintainer"]);
    assert_eq!(info["section"].as_str().unwrap(), show["Section"]);
    assert_eq!(info["priority"].as_str().unwrap(), show["Priority"]);
    assert_eq!(
        info["download_size"].as_u64().unwrap(),
        show["Size"].parse::<u64>().unwrap()
    );
    let kib: u64 = show["Installed-Size"].parse().unwrap();
    assert_eq!(info["installed_size"].as_u64().unwrap(), kib * 1024);
    assert_eq!(info["depends"], relations(show.get("Depends")));
    assert_eq!(info["recommends"], relations(show.get("Recommends")));
    assert_eq!(info["suggests"], relations(show.get("Suggests")));
    assert_eq!(
        info["homepage"].as_str(),
        show.get("Homepage").map(String::as_str)
    );
    let summary = show["Description"].lines().next().unwrap();
    assert_eq!(info["summary"].as_str().unwrap(), summary);
}

#[test]
fn packages_from_this_machine_s_signed_sources_are_verified() {
    // bash comes from a source whose InRelease apt checked.
    let env = Env::new();
    let info = env.json(&["info", "bash", "--json"]);
    let info = if info.is_array() { &info[0] } else { &info };
    assert_eq!(info["grade"], "verified", "{info}");
}
