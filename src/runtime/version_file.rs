//! Which runtime versions a directory asks for: the version files of nvm,
//! pyenv, rustup, asdf, sdkman, volta, mise (`[tools]` of its project
//! files) and the languages' own manifests, read as their tools read them,
//! the nearest file upward winning for each runtime.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The runtimes omg manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    Node,
    Python,
    Go,
    Rust,
    Ruby,
    Java,
    Bun,
}

impl Runtime {
    pub const ALL: [Runtime; 7] = [
        Runtime::Node,
        Runtime::Python,
        Runtime::Go,
        Runtime::Rust,
        Runtime::Ruby,
        Runtime::Java,
        Runtime::Bun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Node => "node",
            Runtime::Python => "python",
            Runtime::Go => "go",
            Runtime::Rust => "rust",
            Runtime::Ruby => "ruby",
            Runtime::Java => "java",
            Runtime::Bun => "bun",
        }
    }

    /// A runtime by the names people and tools use for it.
    pub fn from_name(name: &str) -> Option<Runtime> {
        Some(match name.to_ascii_lowercase().as_str() {
            "node" | "nodejs" | "node.js" => Runtime::Node,
            "python" | "python3" | "cpython" => Runtime::Python,
            "go" | "golang" => Runtime::Go,
            "rust" | "rustc" => Runtime::Rust,
            "ruby" => Runtime::Ruby,
            "java" | "jdk" => Runtime::Java,
            "bun" => Runtime::Bun,
            _ => return None,
        })
    }
}

/// A version a file asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Wanted {
    pub runtime: Runtime,
    /// As the file says it, normalised only where the tool would (`v20` →
    /// `20`, `ruby-3.3.0` → `3.3.0`, `go1.22.3` → `1.22.3`).
    pub version: String,
    /// The file that asks.
    pub file: PathBuf,
    /// Rust: components and targets from `rust-toolchain.toml`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
}

/// mise's project files, highest precedence first (as mise ranks them
/// within one directory: the local files over the shared ones).
pub const MISE_FILES: &[&str] = &[
    ".mise.local.toml",
    "mise.local.toml",
    ".mise.toml",
    "mise.toml",
];

/// The files looked for in each directory, nearest-first order within one
/// directory (mise's files beat a runtime-specific file beats
/// `.tool-versions` beats a manifest, as mise ranks them).
pub const FILES: &[&str] = &[
    ".mise.local.toml",
    "mise.local.toml",
    ".mise.toml",
    "mise.toml",
    ".nvmrc",
    ".node-version",
    ".python-version",
    "rust-toolchain.toml",
    "rust-toolchain",
    ".ruby-version",
    ".java-version",
    ".bun-version",
    ".sdkmanrc",
    ".tool-versions",
    "go.mod",
    "package.json",
];

/// Lines without comments (`#` to the end) and surrounding blanks.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.split_once('#').map_or(l, |(before, _)| before).trim())
        .filter(|l| !l.is_empty())
}

fn first_word(text: &str) -> Option<String> {
    lines(text)
        .next()
        .and_then(|l| l.split_whitespace().next())
        .map(str::to_string)
}

fn strip_v(v: &str) -> String {
    match v.strip_prefix('v') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest.to_string(),
        _ => v.to_string(),
    }
}

fn wanted(runtime: Runtime, version: String, file: &Path) -> Wanted {
    Wanted {
        runtime,
        version,
        file: file.to_path_buf(),
        components: Vec::new(),
        targets: Vec::new(),
    }
}

/// What one file asks for. Unreadable or malformed files ask nothing.
pub fn parse(name: &str, text: &str, file: &Path) -> Vec<Wanted> {
    let one = |runtime, version: Option<String>| {
        version
            .filter(|v| !v.is_empty())
            .map(|v| vec![wanted(runtime, v, file)])
            .unwrap_or_default()
    };
    match name {
        ".nvmrc" | ".node-version" => one(Runtime::Node, first_word(text).map(|v| strip_v(&v))),
        ".python-version" => one(Runtime::Python, first_word(text)),
        ".ruby-version" => one(
            Runtime::Ruby,
            first_word(text).map(|v| v.strip_prefix("ruby-").unwrap_or(&v).to_string()),
        ),
        ".java-version" => one(Runtime::Java, first_word(text)),
        ".bun-version" => one(Runtime::Bun, first_word(text).map(|v| strip_v(&v))),
        "rust-toolchain.toml" => rust_toml(text, file),
        "rust-toolchain" => {
            // The old plain form, or TOML in a file without the extension.
            let toml = rust_toml(text, file);
            if toml.is_empty() {
                one(Runtime::Rust, first_word(text))
            } else {
                toml
            }
        }
        ".tool-versions" => lines(text)
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                let runtime = Runtime::from_name(words.next()?)?;
                let version = words.next()?;
                let version = match runtime {
                    Runtime::Node | Runtime::Bun => strip_v(version),
                    _ => version.to_string(),
                };
                Some(wanted(runtime, version, file))
            })
            .collect(),
        ".sdkmanrc" => lines(text)
            .filter_map(|line| {
                let (candidate, version) = line.split_once('=')?;
                let runtime = Runtime::from_name(candidate.trim())?;
                Some(wanted(runtime, version.trim().to_string(), file))
            })
            .collect(),
        "go.mod" => go_mod(text, file),
        "package.json" => package_json(text, file),
        name if MISE_FILES.contains(&name) => mise_tools(text, file),
        _ => Vec::new(),
    }
}

fn rust_toml(text: &str, file: &Path) -> Vec<Wanted> {
    #[derive(serde::Deserialize)]
    struct Toolchain {
        channel: Option<String>,
        #[serde(default)]
        components: Vec<String>,
        #[serde(default)]
        targets: Vec<String>,
    }
    #[derive(serde::Deserialize)]
    struct File {
        toolchain: Toolchain,
    }
    let Ok(parsed) = toml::from_str::<File>(text) else {
        return Vec::new();
    };
    let Some(channel) = parsed.toolchain.channel.filter(|c| !c.is_empty()) else {
        return Vec::new();
    };
    vec![Wanted {
        runtime: Runtime::Rust,
        version: channel,
        file: file.to_path_buf(),
        components: parsed.toolchain.components,
        targets: parsed.toolchain.targets,
    }]
}

/// mise's `[tools]`: `node = "20"`, `python = ["3.12", "3.11"]` (the
/// first is the one used), `go = { version = "1.22" }`; backends
/// (`core:node`) and `prefix:` requests as mise reads them. Versions omg
/// cannot install (`system`, `ref:`, `path:`, `sub-…`) ask nothing.
fn mise_tools(text: &str, file: &Path) -> Vec<Wanted> {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(default)]
        tools: toml::Table,
    }
    let Ok(parsed) = toml::from_str::<File>(text) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (tool, value) in &parsed.tools {
        let name = tool.strip_prefix("core:").unwrap_or(tool);
        let Some(runtime) = Runtime::from_name(name) else {
            continue;
        };
        let version = match value {
            toml::Value::String(v) => Some(v.as_str()),
            toml::Value::Array(list) => list.first().and_then(|v| match v {
                toml::Value::String(v) => Some(v.as_str()),
                toml::Value::Table(t) => t.get("version").and_then(|v| v.as_str()),
                _ => None,
            }),
            toml::Value::Table(t) => t.get("version").and_then(|v| v.as_str()),
            _ => None,
        };
        let Some(version) = version.map(str::trim) else {
            continue;
        };
        let version = version.strip_prefix("prefix:").unwrap_or(version);
        if version.is_empty()
            || version == "system"
            || ["ref:", "path:", "sub-", "tag:"]
                .iter()
                .any(|p| version.starts_with(p))
        {
            continue;
        }
        let version = match runtime {
            Runtime::Node | Runtime::Bun => strip_v(version),
            _ => version.to_string(),
        };
        found.push(wanted(runtime, version, file));
    }
    found
}

/// `toolchain goX.Y.Z` wins over `go X.Y`, as the go command decides.
fn go_mod(text: &str, file: &Path) -> Vec<Wanted> {
    let mut go = None;
    let mut toolchain = None;
    for line in text.lines() {
        let line = line
            .split_once("//")
            .map_or(line, |(before, _)| before)
            .trim();
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("go"), Some(v)) => go = Some(v.to_string()),
            (Some("toolchain"), Some(v)) if v != "default" => {
                toolchain = Some(v.strip_prefix("go").unwrap_or(v).to_string());
            }
            _ => {}
        }
    }
    toolchain
        .or(go)
        .map(|v| vec![wanted(Runtime::Go, v, file)])
        .unwrap_or_default()
}

/// volta's pin, else `engines.node`; bun from `packageManager`.
fn package_json(text: &str, file: &Path) -> Vec<Wanted> {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let node = json["volta"]["node"]
        .as_str()
        .or_else(|| json["engines"]["node"].as_str());
    if let Some(node) = node.filter(|n| !n.trim().is_empty()) {
        found.push(wanted(Runtime::Node, strip_v(node.trim()), file));
    }
    let bun = json["packageManager"]
        .as_str()
        .and_then(|pm| pm.strip_prefix("bun@"))
        .or_else(|| json["engines"]["bun"].as_str());
    if let Some(bun) = bun {
        // `bun@1.1.0+sha512.…`: the hash is corepack's, not a version.
        let bun = bun.split_once('+').map_or(bun, |(v, _)| v);
        found.push(wanted(Runtime::Bun, strip_v(bun.trim()), file));
    }
    found
}

/// What `dir` asks for: for each runtime, the nearest file upward that
/// names it (within one directory, in `FILES` order).
pub fn detect(dir: &Path) -> BTreeMap<Runtime, Wanted> {
    detect_among(dir, None)
}

/// `detect`, reading only the files `known` lists when it is given (the
/// shell hook's state, which says no other version file exists upward).
pub fn detect_among(
    dir: &Path,
    known: Option<&std::collections::HashSet<String>>,
) -> BTreeMap<Runtime, Wanted> {
    let mut found: BTreeMap<Runtime, Wanted> = BTreeMap::new();
    for ancestor in dir.ancestors() {
        for name in FILES {
            let path = ancestor.join(name);
            if known.is_some_and(|known| !known.contains(&path.display().to_string())) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for w in parse(name, &text, &path) {
                found.entry(w.runtime).or_insert(w);
            }
        }
        if found.len() == Runtime::ALL.len() {
            break;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_among_known_files_reads_only_those() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("p");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(dir.path().join(".nvmrc"), "20\n").unwrap();
        std::fs::write(project.join(".python-version"), "3.12\n").unwrap();
        let all = detect(&project);
        assert_eq!(all.len(), 2);
        let known: std::collections::HashSet<String> =
            [project.join(".python-version").display().to_string()].into();
        let among = detect_among(&project, Some(&known));
        assert_eq!(among.keys().collect::<Vec<_>>(), [&Runtime::Python]);
        assert_eq!(detect_among(&project, None), all);
    }

    fn versions(name: &str, text: &str) -> Vec<(Runtime, String)> {
        parse(name, text, Path::new(name))
            .into_iter()
            .map(|w| (w.runtime, w.version))
            .collect()
    }

    #[test]
    fn nvm_and_node_version_files() {
        assert_eq!(
            versions(".nvmrc", "lts/iron\n"),
            [(Runtime::Node, "lts/iron".into())]
        );
        assert_eq!(
            versions(".nvmrc", "lts/*"),
            [(Runtime::Node, "lts/*".into())]
        );
        assert_eq!(versions(".nvmrc", "v20\n"), [(Runtime::Node, "20".into())]);
        assert_eq!(versions(".nvmrc", "node"), [(Runtime::Node, "node".into())]);
        assert_eq!(
            versions(".nvmrc", "# the team's node\n\n  20.10.0  # pinned\n"),
            [(Runtime::Node, "20.10.0".into())]
        );
        assert_eq!(
            versions(".node-version", "v18.19.0"),
            [(Runtime::Node, "18.19.0".into())]
        );
        assert!(versions(".nvmrc", "\n# nothing\n").is_empty());
    }

    #[test]
    fn tool_versions_with_comments_blank_lines_and_several_runtimes() {
        let text = "# project tools\n\nnodejs 20.11.1 18.19.0\npython 3.12.4 # main\n\ngolang 1.22.3\nterraform 1.7.0\nrust stable\n";
        assert_eq!(
            versions(".tool-versions", text),
            [
                (Runtime::Node, "20.11.1".into()),
                (Runtime::Python, "3.12.4".into()),
                (Runtime::Go, "1.22.3".into()),
                (Runtime::Rust, "stable".into()),
            ]
        );
    }

    #[test]
    fn pyenv_ruby_java_bun_and_sdkman() {
        assert_eq!(
            versions(".python-version", "3.12.4\n3.11.9\n"),
            [(Runtime::Python, "3.12.4".into())]
        );
        assert_eq!(
            versions(".ruby-version", "ruby-3.3.0\n"),
            [(Runtime::Ruby, "3.3.0".into())]
        );
        assert_eq!(
            versions(".java-version", "temurin-21"),
            [(Runtime::Java, "temurin-21".into())]
        );
        assert_eq!(
            versions(".bun-version", "v1.1.8"),
            [(Runtime::Bun, "1.1.8".into())]
        );
        assert_eq!(
            versions(".sdkmanrc", "# sdkman\njava=21.0.2-tem\nmaven=3.9.6\n"),
            [(Runtime::Java, "21.0.2-tem".into())]
        );
    }

    #[test]
    fn rust_toolchain_files() {
        let full = "[toolchain]\nchannel = \"1.78.0\"\ncomponents = [\"rustfmt\", \"clippy\"]\ntargets = [\"wasm32-unknown-unknown\"]\n";
        let w = parse(
            "rust-toolchain.toml",
            full,
            Path::new("rust-toolchain.toml"),
        );
        assert_eq!(w[0].version, "1.78.0");
        assert_eq!(w[0].components, ["rustfmt", "clippy"]);
        assert_eq!(w[0].targets, ["wasm32-unknown-unknown"]);
        assert_eq!(
            versions(
                "rust-toolchain.toml",
                "[toolchain]\nchannel = \"nightly-2024-05-01\"\n"
            ),
            [(Runtime::Rust, "nightly-2024-05-01".into())]
        );
        assert_eq!(
            versions("rust-toolchain", "stable\n"),
            [(Runtime::Rust, "stable".into())]
        );
        assert_eq!(
            versions("rust-toolchain", "[toolchain]\nchannel = \"beta\"\n"),
            [(Runtime::Rust, "beta".into())]
        );
        assert!(
            versions(
                "rust-toolchain.toml",
                "[toolchain]\nprofile = \"minimal\"\n"
            )
            .is_empty()
        );
    }

    #[test]
    fn go_mod_prefers_the_toolchain_line() {
        let with = "module example.org/m\n\ngo 1.21\n\ntoolchain go1.22.3\n\nrequire x v1.0.0\n";
        assert_eq!(versions("go.mod", with), [(Runtime::Go, "1.22.3".into())]);
        let without = "module example.org/m // comment\n\ngo 1.21.5 // minimum\n";
        assert_eq!(
            versions("go.mod", without),
            [(Runtime::Go, "1.21.5".into())]
        );
        assert!(versions("go.mod", "module m\n").is_empty());
    }

    #[test]
    fn package_json_engines_volta_and_package_manager() {
        let engines = r#"{"name": "x", "engines": {"node": ">=18 <21"}}"#;
        assert_eq!(
            versions("package.json", engines),
            [(Runtime::Node, ">=18 <21".into())]
        );
        let volta = r#"{"engines": {"node": ">=18"}, "volta": {"node": "20.10.0"}}"#;
        assert_eq!(
            versions("package.json", volta),
            [(Runtime::Node, "20.10.0".into())]
        );
        let bun = r#"{"packageManager": "bun@1.1.0+sha512.abc"}"#;
        assert_eq!(
            versions("package.json", bun),
            [(Runtime::Bun, "1.1.0".into())]
        );
        assert!(versions("package.json", "{ broken").is_empty());
        assert!(versions("package.json", r#"{"packageManager": "pnpm@9.0.0"}"#).is_empty());
    }

    #[test]
    fn mise_tools_in_every_form_mise_takes() {
        let text = r#"
[tools]
node = "v20.11"
python = ["3.12", "3.11"]
"core:go" = { version = "prefix:1.22" }
rust = "system"
ruby = "ref:master"
terraform = "1.6"
[env]
NODE_ENV = "production"
"#;
        let mut got = versions("mise.toml", text);
        got.sort();
        assert_eq!(
            got,
            [
                (Runtime::Node, "20.11".to_string()),
                (Runtime::Python, "3.12".to_string()),
                (Runtime::Go, "1.22".to_string()),
            ]
        );
        assert!(versions("mise.toml", "not toml [").is_empty());
        assert!(versions(".mise.toml", "[env]\nA = 1\n").is_empty());
    }

    #[test]
    fn mise_local_files_beat_the_shared_one_and_mise_beats_nvmrc() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".nvmrc"), "18\n").unwrap();
        std::fs::write(
            dir.path().join("mise.toml"),
            "[tools]\nnode = \"20\"\npython = \"3.11\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("mise.local.toml"),
            "[tools]\nnode = \"22\"\n",
        )
        .unwrap();
        let found = detect(dir.path());
        assert_eq!(found[&Runtime::Node].version, "22");
        assert!(found[&Runtime::Node].file.ends_with("mise.local.toml"));
        assert_eq!(found[&Runtime::Python].version, "3.11");
    }

    #[test]
    fn the_nearest_file_wins_for_each_runtime() {
        let root = tempfile::tempdir().unwrap();
        let project = root.path().join("project");
        let sub = project.join("web/app");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            root.path().join(".tool-versions"),
            "nodejs 18.0.0\npython 3.11.0\n",
        )
        .unwrap();
        std::fs::write(project.join(".nvmrc"), "lts/iron\n").unwrap();
        std::fs::write(sub.join("package.json"), r#"{"engines": {"node": "^20"}}"#).unwrap();
        let here = detect(&sub);
        assert_eq!(here[&Runtime::Node].version, "^20");
        assert_eq!(here[&Runtime::Node].file, sub.join("package.json"));
        assert_eq!(here[&Runtime::Python].version, "3.11.0");
        assert_eq!(
            here[&Runtime::Python].file,
            root.path().join(".tool-versions")
        );
        let above = detect(&project);
        assert_eq!(above[&Runtime::Node].version, "lts/iron");
        // Within one directory the runtime's own file beats .tool-versions.
        std::fs::write(project.join(".tool-versions"), "nodejs 16.0.0\n").unwrap();
        assert_eq!(detect(&project)[&Runtime::Node].version, "lts/iron");
    }
}
