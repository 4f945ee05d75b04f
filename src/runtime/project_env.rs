//! The environment a project sets, as mise sets it: the `[env]` section of
//! mise's project files (plain values, `_.file` dotenv files, `_.path`
//! directories) over the project's `.env` file. The shell hook exports it
//! and takes it back on leaving, as it does PATH, when `[hook] env = true`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::version_file::MISE_FILES;

/// What a directory's project files set.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProjectEnv {
    pub vars: BTreeMap<String, String>,
    /// Directories to put first on PATH (`_.path`), nearest last.
    pub path: Vec<PathBuf>,
}

/// A variable name a shell takes.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `KEY=VALUE` lines as dotenv files have them: `export ` allowed,
/// comments and blank lines skipped, values in single quotes taken as
/// they are, in double quotes with `\n`, `\"` and `\\` escapes.
pub fn parse_dotenv(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if !valid_name(key) {
            continue;
        }
        let value = value.trim();
        let value = if let Some(inner) = value.strip_prefix('\'') {
            inner.split_once('\'').map_or(inner, |(v, _)| v).to_string()
        } else if let Some(inner) = value.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => v.push('\n'),
                        Some(other) => v.push(other),
                        None => {}
                    },
                    c => v.push(c),
                }
            }
            v
        } else {
            // A comment after an unquoted value.
            value
                .split_once(" #")
                .map_or(value, |(v, _)| v)
                .trim()
                .to_string()
        };
        out.push((key.to_string(), value));
    }
    out
}

/// A string or a list of strings.
fn strings(value: &toml::Value) -> Vec<String> {
    match value {
        toml::Value::String(s) => vec![s.clone()],
        toml::Value::Array(list) => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// `~/x` and paths relative to `dir`, made absolute.
fn resolve(dir: &Path, path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map_or_else(|| dir.join(path), |home| PathBuf::from(home).join(rest)),
        None => dir.join(path),
    }
}

/// Applies one mise file's `[env]` to `env`.
fn apply_mise(env: &mut ProjectEnv, dir: &Path, text: &str) {
    let Ok(table) = toml::from_str::<toml::Table>(text) else {
        return;
    };
    let Some(section) = table.get("env").and_then(|e| e.as_table()) else {
        return;
    };
    // `_` (and the older `mise`) hold the directives.
    for directives in ["mise", "_"].iter().filter_map(|k| section.get(*k)) {
        let Some(directives) = directives.as_table() else {
            continue;
        };
        for file in directives.get("file").map(strings).unwrap_or_default() {
            if let Ok(text) = std::fs::read_to_string(resolve(dir, &file)) {
                env.vars.extend(parse_dotenv(&text));
            }
        }
        for path in directives.get("path").map(strings).unwrap_or_default() {
            env.path.push(resolve(dir, &path));
        }
    }
    for (key, value) in section {
        if key == "_" || key == "mise" || !valid_name(key) {
            continue;
        }
        let value = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            // `false` unsets in mise; other shapes are mise's own.
            _ => continue,
        };
        // mise's templates need mise to render them.
        if value.contains("{{") {
            continue;
        }
        env.vars.insert(key.clone(), value);
    }
}

/// What `cwd` sets: the nearest `.env` upward, then every mise file from
/// the farthest directory to the nearest (nearer files override, and
/// within one directory the local files override the shared ones).
pub fn collect(cwd: &Path) -> ProjectEnv {
    let mut env = ProjectEnv::default();
    if let Some(text) = cwd
        .ancestors()
        .find_map(|dir| std::fs::read_to_string(dir.join(".env")).ok())
    {
        env.vars.extend(parse_dotenv(&text));
    }
    let dirs: Vec<&Path> = cwd.ancestors().collect();
    for dir in dirs.into_iter().rev() {
        for name in MISE_FILES.iter().rev() {
            if let Ok(text) = std::fs::read_to_string(dir.join(name)) {
                apply_mise(&mut env, dir, &text);
            }
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_lines_as_dotenv_reads_them() {
        let text = "# comment\n\nexport A=1\nB='two words # not a comment'\nC=\"x\\ny \\\"q\\\"\"\nD=plain # comment\n1BAD=x\nnoequals\nE=\n";
        assert_eq!(
            parse_dotenv(text),
            [
                ("A".to_string(), "1".to_string()),
                ("B".to_string(), "two words # not a comment".to_string()),
                ("C".to_string(), "x\ny \"q\"".to_string()),
                ("D".to_string(), "plain".to_string()),
                ("E".to_string(), String::new()),
            ]
        );
    }

    #[test]
    fn mise_env_over_dotenv_nearer_over_farther_local_over_shared() {
        let root = tempfile::tempdir().unwrap();
        let project = root.path().join("project");
        let sub = project.join("sub");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(project.join(".env"), "FROM_DOTENV=1\nSHARED=dotenv\n").unwrap();
        std::fs::write(project.join("extra.env"), "FROM_FILE=yes\n").unwrap();
        std::fs::write(
            project.join("mise.toml"),
            "[env]\nSHARED = \"mise\"\nLEVEL = \"project\"\nPORT = 8080\nTEMPLATED = \"{{env.HOME}}\"\n_.file = \"extra.env\"\n_.path = [\"./bin\"]\n",
        )
        .unwrap();
        std::fs::write(
            project.join("mise.local.toml"),
            "[env]\nLOCAL = \"yes\"\nLEVEL = \"local\"\n",
        )
        .unwrap();
        std::fs::write(sub.join(".mise.toml"), "[env]\nLEVEL = \"sub\"\n").unwrap();
        let env = collect(&sub);
        let get = |k: &str| env.vars.get(k).map(String::as_str);
        assert_eq!(get("FROM_DOTENV"), Some("1"));
        assert_eq!(get("SHARED"), Some("mise"));
        assert_eq!(get("FROM_FILE"), Some("yes"));
        assert_eq!(get("PORT"), Some("8080"));
        assert_eq!(get("LOCAL"), Some("yes"));
        assert_eq!(get("LEVEL"), Some("sub"));
        assert_eq!(get("TEMPLATED"), None);
        assert_eq!(env.path, [project.join("./bin")]);
        let outside = collect(root.path());
        assert!(outside.vars.is_empty());
    }
}
