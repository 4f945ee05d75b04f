//! The package versions a project pins, read from its lockfiles for OSV:
//! `package-lock.json` (npm, formats 1 to 3), `Cargo.lock`, `poetry.lock`,
//! `requirements.txt` (exact `==` pins) and `go.sum`.

use std::path::{Path, PathBuf};

use super::osv::Query;

/// The lockfiles omg reads, by file name.
pub const NAMES: &[&str] = &[
    "package-lock.json",
    "Cargo.lock",
    "poetry.lock",
    "requirements.txt",
    "go.sum",
];

/// Every pinned package of the lockfiles in `dir`, with the file that
/// pins it; files that cannot be read are reported, not fatal.
pub fn read_dir(dir: &Path) -> (Vec<(Query, PathBuf)>, Vec<String>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for name in NAMES {
        let path = dir.join(name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        match parse(name, &text) {
            Ok(queries) => found.extend(queries.into_iter().map(|q| (q, path.clone()))),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    (found, problems)
}

fn query(ecosystem: &str, name: &str, version: &str) -> Query {
    Query {
        ecosystem: ecosystem.into(),
        name: name.into(),
        version: version.into(),
    }
}

/// The pins in a lockfile called `name`.
pub fn parse(name: &str, text: &str) -> Result<Vec<Query>, String> {
    match name {
        "package-lock.json" => npm(text),
        "Cargo.lock" => toml_packages(text, "crates.io", |p| {
            // Registry crates only: path and git dependencies are not on
            // crates.io.
            p.get("source")
                .and_then(|s| s.as_str())
                .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"))
        }),
        "poetry.lock" => toml_packages(text, "PyPI", |_| true),
        "requirements.txt" => Ok(requirements(text)),
        "go.sum" => Ok(go_sum(text)),
        _ => Err("not a lockfile omg reads".into()),
    }
}

fn npm(text: &str) -> Result<Vec<Query>, String> {
    let lock: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    if let Some(packages) = lock["packages"].as_object() {
        for (path, entry) in packages {
            let Some(name) = path
                .rsplit("node_modules/")
                .next()
                .filter(|_| !path.is_empty())
            else {
                continue;
            };
            if entry["link"].as_bool() == Some(true) {
                continue;
            }
            if let Some(version) = entry["version"].as_str() {
                out.push(query("npm", name, version));
            }
        }
    } else if let Some(deps) = lock["dependencies"].as_object() {
        fn walk(deps: &serde_json::Map<String, serde_json::Value>, out: &mut Vec<Query>) {
            for (name, entry) in deps {
                if let Some(version) = entry["version"].as_str() {
                    out.push(query("npm", name, version));
                }
                if let Some(inner) = entry["dependencies"].as_object() {
                    walk(inner, out);
                }
            }
        }
        walk(deps, &mut out);
    }
    Ok(out)
}

fn toml_packages(
    text: &str,
    ecosystem: &str,
    keep: impl Fn(&toml::Table) -> bool,
) -> Result<Vec<Query>, String> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    Ok(doc
        .get("package")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_table())
        .filter(|p| keep(p))
        .filter_map(|p| {
            Some(query(
                ecosystem,
                p.get("name")?.as_str()?,
                p.get("version")?.as_str()?,
            ))
        })
        .collect())
}

fn requirements(text: &str) -> Vec<Query> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next()?.split(';').next()?.trim();
            if line.is_empty() || line.starts_with('-') {
                return None;
            }
            let (name, version) = line.split_once("==")?;
            let name = name.split('[').next()?.trim().to_lowercase();
            let version = version.split(',').next()?.trim();
            (!name.is_empty() && !version.is_empty() && !version.contains('*'))
                .then(|| query("PyPI", &name, version))
        })
        .collect()
}

fn go_sum(text: &str) -> Vec<Query> {
    let mut out: Vec<Query> = text
        .lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let module = parts.next()?;
            let version = parts.next()?;
            if version.ends_with("/go.mod") {
                return None;
            }
            Some(query("Go", module, version.trim_start_matches('v')))
        })
        .collect();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_lockfile_gives_its_pins() {
        let npm3 = r#"{"lockfileVersion":3,"packages":{"":{"name":"app"},
            "node_modules/ms":{"version":"0.7.0"},
            "node_modules/debug/node_modules/ms":{"version":"2.0.0"},
            "node_modules/local":{"link":true}}}"#;
        let q = parse("package-lock.json", npm3).unwrap();
        assert_eq!(q.len(), 2);
        assert!(q.contains(&query("npm", "ms", "2.0.0")));
        let npm1 = r#"{"lockfileVersion":1,"dependencies":{"ms":{"version":"0.7.0","dependencies":{"x":{"version":"1.0.0"}}}}}"#;
        assert_eq!(parse("package-lock.json", npm1).unwrap().len(), 2);
        let cargo = "version = 3\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"regex\"\nversion = \"1.5.4\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        assert_eq!(
            parse("Cargo.lock", cargo).unwrap(),
            [query("crates.io", "regex", "1.5.4")]
        );
        let reqs = "# pinned\nDjango==1.11.29  # old\nrequests[socks]==2.20.0 ; python_version > '3'\nflask>=1.0\n-r other.txt\n";
        assert_eq!(
            parse("requirements.txt", reqs).unwrap(),
            [
                query("PyPI", "django", "1.11.29"),
                query("PyPI", "requests", "2.20.0")
            ]
        );
        let sum = "github.com/gogo/protobuf v1.3.1 h1:abc=\ngithub.com/gogo/protobuf v1.3.1/go.mod h1:def=\n";
        assert_eq!(
            parse("go.sum", sum).unwrap(),
            [query("Go", "github.com/gogo/protobuf", "1.3.1")]
        );
        assert!(parse("Cargo.lock", "not [ toml").is_err());
    }
}
