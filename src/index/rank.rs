//! Ranking a query against the index. Matches come in tiers, best first:
//! the exact name, names starting with the query, fuzzy name matches (nucleo,
//! best score first), packages providing a name that contains the query, and
//! packages whose description contains every word of the query.

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use super::{Index, Package};
use crate::ipc::protocol::{MAX_QUERY_LEN, SearchRequest};
use crate::model::{MatchKind, SearchHit, SearchResults};

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the search query is empty")]
    Empty,
    #[error("the search query is longer than {MAX_QUERY_LEN} bytes")]
    TooLong,
    #[error("the search query contains a control character")]
    ControlCharacter,
}

/// Checks a user's query and returns it trimmed.
pub fn validate_query(query: &str) -> Result<&str, QueryError> {
    let query = query.trim();
    if query.is_empty() {
        Err(QueryError::Empty)
    } else if query.len() > MAX_QUERY_LEN {
        Err(QueryError::TooLong)
    } else if query.chars().any(char::is_control) {
        Err(QueryError::ControlCharacter)
    } else {
        Ok(query)
    }
}

/// True when `needle` (already lowercase) occurs in `haystack`, ignoring ASCII case.
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    let (hay, needle) = (haystack.as_bytes(), needle.as_bytes());
    let Some(&first) = needle.first() else {
        return true;
    };
    if needle.len() > hay.len() {
        return false;
    }
    let last_start = hay.len() - needle.len();
    (0..=last_start).any(|i| {
        hay[i].to_ascii_lowercase() == first && hay[i..i + needle.len()].eq_ignore_ascii_case(needle)
    })
}

struct Scored {
    kind: MatchKind,
    /// Higher is better within a tier.
    score: i64,
    index: usize,
}

/// Runs a search. The query must have passed `validate_query`.
pub fn search(index: &Index, request: &SearchRequest) -> SearchResults {
    let query = request.query.trim();
    let lower = query.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut config = Config::DEFAULT;
    config.prefer_prefix = true;
    let mut matcher = Matcher::new(config);
    let mut buf = Vec::new();

    let mut scored: Vec<Scored> = Vec::new();
    for (i, package) in index.iter().enumerate() {
        if request.installed_only && !package.is_installed() {
            continue;
        }
        let name = package.name;
        let (kind, score) = if name.eq_ignore_ascii_case(&lower) {
            (MatchKind::Exact, 0)
        } else if name.len() > lower.len()
            && name.as_bytes()[..lower.len()].eq_ignore_ascii_case(lower.as_bytes())
        {
            (MatchKind::Prefix, -(name.len() as i64))
        } else if let Some(s) = pattern.score(Utf32Str::new(name, &mut buf), &mut matcher) {
            (MatchKind::Fuzzy, i64::from(s))
        } else if package.provides().any(|p| contains_ignore_case(p, &lower)) {
            (MatchKind::Provides, 0)
        } else if words
            .iter()
            .all(|w| contains_ignore_case(package.summary, w))
        {
            (MatchKind::Description, 0)
        } else {
            continue;
        };
        scored.push(Scored {
            kind,
            score,
            index: i,
        });
    }

    let total = scored.len() as u32;
    let by_rank = |a: &Scored, b: &Scored| {
        let (pa, pb) = (index.get(a.index), index.get(b.index));
        a.kind
            .cmp(&b.kind)
            .then(b.score.cmp(&a.score))
            .then(pa.name.len().cmp(&pb.name.len()))
            .then(pa.name.cmp(pb.name))
    };
    let limit = if request.limit == 0 {
        scored.len()
    } else {
        request.limit as usize
    };
    if limit < scored.len() {
        scored.select_nth_unstable_by(limit, by_rank);
        scored.truncate(limit);
    }
    scored.sort_unstable_by(by_rank);

    SearchResults {
        query: query.to_string(),
        total,
        hits: scored
            .iter()
            .map(|s| hit(index.get(s.index), s.kind))
            .collect(),
    }
}

fn hit(package: Package<'_>, kind: MatchKind) -> SearchHit {
    SearchHit {
        name: package.name.to_string(),
        version: package.version.to_string(),
        repository: package.repository.to_string(),
        architecture: package.architecture.to_string(),
        installed_version: package.installed_version.map(str::to_string),
        description: package.summary.to_string(),
        matched: kind,
    }
}

/// Up to `n` names close to `name`, for "did you mean": fuzzy matches of the
/// name first, then names within a small edit distance (typos).
pub fn suggest(index: &Index, name: &str, n: usize) -> Vec<String> {
    let pattern = Pattern::parse(name, CaseMatching::Ignore, Normalization::Smart);
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut buf = Vec::new();
    let mut fuzzy: Vec<(u32, &str)> = index
        .iter()
        .filter_map(|p| {
            pattern
                .score(Utf32Str::new(p.name, &mut buf), &mut matcher)
                .map(|s| (s, p.name))
        })
        .collect();
    fuzzy.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.len().cmp(&b.1.len())).then(a.1.cmp(b.1)));
    let mut out: Vec<String> = fuzzy.iter().take(n).map(|(_, s)| s.to_string()).collect();
    if out.len() < n {
        let max = if name.len() <= 4 { 1 } else { 2 };
        let mut typos: Vec<(usize, &str)> = index
            .iter()
            .map(|p| p.name)
            .filter(|c| c.len().abs_diff(name.len()) <= max)
            .map(|c| (strsim::damerau_levenshtein(name, c), c))
            .filter(|(d, _)| *d <= max)
            .collect();
        typos.sort();
        for (_, c) in typos {
            if out.len() == n {
                break;
            }
            if !out.iter().any(|o| o == c) {
                out.push(c.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::flags::INSTALLED;
    use crate::index::tests::{meta, record};

    fn sample() -> Index {
        let mut provider = record("neovim", "heavily refactored vim fork", 0);
        provider.provides = vec!["editor".into(), "vim-like".into()];
        Index::from_records(
            meta(),
            vec![
                record("vim", "Vi IMproved - enhanced vi editor", INSTALLED),
                record("vim-tiny", "Vi IMproved - compact version", 0),
                record("vim-gtk3", "Vi IMproved - gtk3 GUI", 0),
                record("gvim-helper", "helper", 0),
                record("nano", "small, friendly text editor inspired by Pico", 0),
                provider,
                record("ed", "classic UNIX line editor", INSTALLED),
            ],
        )
    }

    fn run(index: &Index, query: &str, limit: u32, installed_only: bool) -> SearchResults {
        search(
            index,
            &SearchRequest {
                query: query.into(),
                limit,
                installed_only,
            },
        )
    }

    #[test]
    fn tiers_come_in_order() {
        let index = sample();
        let r = run(&index, "vim", 0, false);
        let names: Vec<_> = r.hits.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names[0], "vim");
        assert_eq!(&names[1..3], ["vim-gtk3", "vim-tiny"]);
        assert!(names.contains(&"gvim-helper"));
        assert!(names.contains(&"neovim"));
        assert_eq!(r.hits[0].matched, MatchKind::Exact);
        assert_eq!(r.hits[1].matched, MatchKind::Prefix);
        assert_eq!(r.total, 5);

        let r = run(&index, "editor", 0, false);
        let kinds: Vec<_> = r.hits.iter().map(|h| (h.name.as_str(), h.matched)).collect();
        assert_eq!(kinds[0], ("neovim", MatchKind::Provides));
        assert!(kinds.contains(&("nano", MatchKind::Description)));
        assert!(kinds.contains(&("ed", MatchKind::Description)));

        // Every word must appear in a description match.
        let r = run(&index, "text pico", 0, false);
        assert_eq!(r.hits.len(), 1);
        assert_eq!(r.hits[0].name, "nano");
    }

    #[test]
    fn limit_and_installed_filter() {
        let index = sample();
        let r = run(&index, "vim", 2, false);
        assert_eq!(r.hits.len(), 2);
        assert_eq!(r.total, 5);
        assert_eq!(r.hits[0].name, "vim");
        let r = run(&index, "editor", 0, true);
        let names: Vec<_> = r.hits.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["ed", "vim"]);
    }

    #[test]
    fn queries_are_validated() {
        assert_eq!(validate_query("  "), Err(QueryError::Empty));
        assert_eq!(validate_query("a\u{7}b"), Err(QueryError::ControlCharacter));
        assert_eq!(validate_query(&"x".repeat(300)), Err(QueryError::TooLong));
        assert_eq!(validate_query(" vim "), Ok("vim"));
    }

    #[test]
    fn suggestions_cover_fuzzy_and_typos() {
        let index = sample();
        assert!(suggest(&index, "vimt", 5).contains(&"vim-tiny".to_string()));
        assert_eq!(suggest(&index, "nnao", 5), ["nano"]);
        assert!(suggest(&index, "zzzzzz", 5).is_empty());
    }
}
