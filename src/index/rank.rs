//! Ranking a query against the index. Matches come in tiers, best first:
//! the exact name, names starting with the query, fuzzy name matches (nucleo,
//! best score first), packages providing a name that contains the query, and
//! packages whose description contains every word of the query.

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use super::flags::INSTALLED;
use super::{Index, Package, View};
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

/// ASCII letters from most to least frequent in English text. A
/// case-insensitive scan anchors on the rarest byte of the needle, so it
/// stops as seldom as possible.
const FREQUENT_FIRST: &[u8] = b"etaoinsrhldcumfpgwybvkxjqz";

fn rarity(b: u8) -> usize {
    match FREQUENT_FIRST
        .iter()
        .position(|&c| c == b.to_ascii_lowercase())
    {
        Some(p) => p,
        None if b == b' ' => 0,
        None => FREQUENT_FIRST.len(),
    }
}

/// Calls `found` with the start of every occurrence of `needle` (lowercase)
/// in `hay`, ignoring ASCII case, in increasing order.
fn find_all(hay: &[u8], needle: &[u8], mut found: impl FnMut(usize)) {
    if needle.is_empty() || needle.len() > hay.len() {
        return;
    }
    let (anchor, &byte) = needle
        .iter()
        .enumerate()
        .max_by_key(|(_, b)| rarity(**b))
        .expect("needle is not empty");
    // An occurrence starting at `s` has its anchor at `s + anchor`; search
    // the anchors' possible range, so a hit's offset there is `s` itself.
    let anchors = &hay[anchor..hay.len() - needle.len() + anchor + 1];
    for start in memchr::memchr2_iter(byte, byte.to_ascii_uppercase(), anchors) {
        if hay[start..start + needle.len()].eq_ignore_ascii_case(needle) {
            found(start);
        }
    }
}

/// Which field of a package's details a scan looks in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Summary,
    Provides,
}

/// Calls `matched(package, field)` once for each package and field (summary
/// or provides) containing `needle` (lowercase, no control characters),
/// scanning the whole details region in one pass.
fn scan(index: &View<'_>, needle: &str, mut matched: impl FnMut(usize, Field)) {
    let details = index.details().as_bytes();
    let count = index.len();
    let mut package = 0;
    let mut reported = (usize::MAX, Field::Summary);
    // (package, end of its summary, end of its provides)
    let mut bounds = (usize::MAX, 0, 0);
    find_all(details, needle.as_bytes(), |start| {
        while package + 1 < count && index.detail_offset(package + 1) <= start {
            package += 1;
        }
        if bounds.0 != package {
            let from = index.detail_offset(package);
            let summary_end =
                memchr::memchr(0, &details[from..]).map_or(details.len(), |e| from + e);
            let provides_end = details
                .get(summary_end + 1..)
                .and_then(|rest| memchr::memchr(0, rest))
                .map_or(details.len(), |e| summary_end + 1 + e);
            bounds = (package, summary_end, provides_end);
        }
        // The needle holds no NUL, so a match never straddles two fields.
        let field = if start < bounds.1 {
            Field::Summary
        } else if start < bounds.2 {
            Field::Provides
        } else {
            return;
        };
        if reported != (package, field) {
            reported = (package, field);
            matched(package, field);
        }
    });
}

/// The words of a query nucleo reads as plain fuzzy words (ASCII, none
/// of its `'` `^` `!` `$` `\\` operators), lowercase; None for any other.
fn plain_words(query: &str) -> Option<Vec<Vec<u8>>> {
    let plain = query.is_ascii() && !query.contains(['\'', '^', '!', '$', '\\']);
    plain.then(|| {
        query
            .split_whitespace()
            .map(|w| w.to_ascii_lowercase().into_bytes())
            .collect()
    })
}

/// Whether a fuzzy match of `name` is possible at all: every plain word's
/// letters appear in it in order, ignoring ASCII case. A cheap test that
/// spares nucleo most names; anything it cannot judge (a non-ASCII name,
/// a query with operators) is left to nucleo.
fn may_match(name: &str, plain: Option<&[Vec<u8>]>) -> bool {
    let Some(words) = plain.filter(|_| name.is_ascii()) else {
        return true;
    };
    words.iter().all(|word| {
        let mut rest = name.as_bytes().iter();
        word.iter()
            .all(|&c| rest.any(|&b| b.to_ascii_lowercase() == c))
    })
}

struct Scored {
    kind: MatchKind,
    /// Higher is better within a tier, before the score (see
    /// `search_weighted`).
    weight: f32,
    /// Higher is better within a tier.
    score: i64,
    index: usize,
}

/// Runs a search. The query must have passed `validate_query`.
pub fn search(packages: &Index, request: &SearchRequest) -> SearchResults {
    search_weighted(packages, request, |_| 0.0)
}

/// `search`, where within each tier (exact, prefix, …) the package at
/// position `i` with the larger `weight(i)` comes first (the AUR's
/// popularity); the repositories weigh every package the same.
pub fn search_weighted(
    packages: &Index,
    request: &SearchRequest,
    weight: impl Fn(usize) -> f32,
) -> SearchResults {
    let index = packages.view();
    let query = request.query.trim();
    let lower = query.to_lowercase();
    let mut words: Vec<&str> = lower.split_whitespace().collect();
    words.sort_unstable();
    words.dedup();
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut config = Config::DEFAULT;
    config.prefer_prefix = true;
    let mut matcher = Matcher::new(config);
    let mut buf = Vec::new();
    let plain = plain_words(query);

    let count = index.len();
    let mut provides = vec![false; count];
    let mut words_found = vec![0u8; count];
    for word in &words {
        // A one-word query finds provided names in the same pass.
        let whole = *word == lower;
        scan(&index, word, |i, field| match field {
            Field::Summary => words_found[i] = words_found[i].saturating_add(1),
            Field::Provides if whole => provides[i] = true,
            Field::Provides => {}
        });
    }
    if words.len() > 1 {
        scan(&index, &lower, |i, field| {
            if field == Field::Provides {
                provides[i] = true;
            }
        });
    }

    let mut scored: Vec<Scored> = Vec::new();
    for i in 0..count {
        if request.installed_only && index.flags(i) & INSTALLED == 0 {
            continue;
        }
        let name = index.name(i);
        let (kind, score) = if name.eq_ignore_ascii_case(&lower) {
            (MatchKind::Exact, 0)
        } else if name.len() > lower.len()
            && name.as_bytes()[..lower.len()].eq_ignore_ascii_case(lower.as_bytes())
        {
            (MatchKind::Prefix, -(name.len() as i64))
        } else if let Some(s) = may_match(name, plain.as_deref())
            .then(|| pattern.score(Utf32Str::new(name, &mut buf), &mut matcher))
            .flatten()
        {
            (MatchKind::Fuzzy, i64::from(s))
        } else if provides[i] {
            (MatchKind::Provides, 0)
        } else if !words.is_empty() && usize::from(words_found[i]) == words.len() {
            (MatchKind::Description, 0)
        } else {
            continue;
        };
        scored.push(Scored {
            kind,
            weight: weight(i),
            score,
            index: i,
        });
    }

    let total = scored.len() as u32;
    let by_rank = |a: &Scored, b: &Scored| {
        let (na, nb) = (index.name(a.index), index.name(b.index));
        a.kind
            .cmp(&b.kind)
            .then(b.weight.total_cmp(&a.weight))
            .then(b.score.cmp(&a.score))
            .then(na.len().cmp(&nb.len()))
            .then(na.cmp(nb))
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
            .map(|s| hit(packages.get(s.index), s.kind))
            .collect(),
        notes: Vec::new(),
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
        aur: None,
    }
}

/// The most names `complete` gives: more than a shell shows without
/// asking, few enough to read at each Tab.
pub const COMPLETIONS: usize = 1000;

/// The names that start with `prefix`, in name order (a binary search of
/// the name-sorted index). Beyond `COMPLETIONS` the last name given is the
/// range's last one: the first and last names of a sorted range share
/// exactly the prefix all of it shares, which is what a shell inserts.
/// None when the names it gives and those either side of the range are
/// not in order (a damaged snapshot read for its names alone, see
/// `snapshot::map_names`).
pub fn complete(index: &Index, prefix: &str) -> Option<Vec<String>> {
    let view = index.view();
    let start = count_holding(&view, 0, |name| name < prefix);
    let end = start + count_holding(&view, start, |name| name.starts_with(prefix));
    let mut given: Vec<usize> = (start..end).take(COMPLETIONS).collect();
    if end - start > COMPLETIONS {
        given[COMPLETIONS - 1] = end - 1;
    }
    let before = start.checked_sub(1).map(|i| view.name(i));
    let after = (end < view.len()).then(|| view.name(end));
    let in_order = before.is_none_or(|name| name < prefix)
        && after.is_none_or(|name| name > prefix && !name.starts_with(prefix))
        && given.iter().all(|&i| view.name(i).starts_with(prefix))
        && given.windows(2).all(|w| view.name(w[0]) < view.name(w[1]));
    in_order.then(|| given.iter().map(|&i| view.name(i).to_string()).collect())
}

/// Two `complete` answers as one (the repositories' and the AUR's): in
/// name order, each name once, cut the way `complete` cuts. Each answer
/// holds its range's first names and its last, so the union's first names
/// and last are among them.
pub fn merge_completions(mut names: Vec<String>, more: Vec<String>) -> Vec<String> {
    names.extend(more);
    names.sort_unstable();
    names.dedup();
    if names.len() > COMPLETIONS {
        let last = names.len() - 1;
        names.swap(COMPLETIONS - 1, last);
        names.truncate(COMPLETIONS);
    }
    names
}

/// How many names of the name-sorted `view` from `start` on `holds` holds
/// for, when it holds for a run of them from `start` and then for none.
fn count_holding(view: &super::View<'_>, start: usize, holds: impl Fn(&str) -> bool) -> usize {
    let (mut lo, mut hi) = (start, view.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if holds(view.name(mid)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo - start
}

/// Up to `n` names close to `name`, for "did you mean": names within a
/// small edit distance (typos) first, then fuzzy matches of the name.
pub fn suggest(index: &Index, name: &str, n: usize) -> Vec<String> {
    let max = if name.len() <= 4 { 1 } else { 2 };
    let mut typos: Vec<(usize, &str)> = index
        .names()
        .filter(|c| c.len().abs_diff(name.len()) <= max)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, _)| *d <= max)
        .collect();
    typos.sort();
    let mut out: Vec<String> = typos.iter().take(n).map(|(_, c)| c.to_string()).collect();
    if out.len() < n {
        let pattern = Pattern::parse(name, CaseMatching::Ignore, Normalization::Smart);
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
        let mut fuzzy: Vec<(u32, &str)> = index
            .names()
            .filter_map(|c| {
                pattern
                    .score(Utf32Str::new(c, &mut buf), &mut matcher)
                    .map(|s| (s, c))
            })
            .collect();
        fuzzy.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(a.1.len().cmp(&b.1.len()))
                .then(a.1.cmp(b.1))
        });
        for (_, c) in fuzzy {
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
    use crate::index::tests::{meta, record};

    #[test]
    fn completion_gives_the_names_with_the_prefix_and_keeps_the_common_prefix() {
        let names = ["vi", "vim", "vim-gtk3", "vimb", "gvim", "vifm", "xxd", "v"];
        let records = names.iter().map(|n| record(n, "", 0)).collect();
        let index = Index::from_records(meta(), records);
        assert_eq!(
            complete(&index, "vim").unwrap(),
            ["vim", "vim-gtk3", "vimb"]
        );
        assert_eq!(
            complete(&index, "vi").unwrap(),
            ["vi", "vifm", "vim", "vim-gtk3", "vimb"]
        );
        assert_eq!(complete(&index, "x").unwrap(), ["xxd"]);
        assert!(complete(&index, "zz").unwrap().is_empty());
        assert!(complete(&index, "vimc").unwrap().is_empty());
        // Names out of order around or in the range (a damaged snapshot
        // read for its names alone): no answer, rather than a wrong one.
        // (In name order: gvim v vi vifm vim vim-gtk3 vimb xxd; entries 2
        // and 5 change places.)
        let (entries, names_region, details) = index.parts();
        let mut swapped = entries.to_vec();
        let entry = |i: usize| i * 12..(i + 1) * 12;
        let (two, five) = (entries[entry(2)].to_vec(), entries[entry(5)].to_vec());
        swapped[entry(2)].copy_from_slice(&five);
        swapped[entry(5)].copy_from_slice(&two);
        let text = format!("{names_region}{details}");
        let damaged =
            Index::from_parts(meta(), swapped, text, Vec::new(), names_region.len()).unwrap();
        assert_eq!(complete(&damaged, "vi"), None);
        assert_eq!(complete(&damaged, "x").unwrap(), ["xxd"]);

        // More than a screenful: the first names, and the range's last one
        // in the last place, so the shared prefix is the whole range's.
        let mut records: Vec<_> = (0..COMPLETIONS + 500)
            .map(|i| record(&format!("lib{i:05}"), "", 0))
            .collect();
        records.push(record("libz-last", "", 0));
        records.push(record("lid", "", 0));
        let index = Index::from_records(meta(), records);
        let names = complete(&index, "li").unwrap();
        assert_eq!(names.len(), COMPLETIONS);
        assert_eq!(names[0], "lib00000");
        assert_eq!(names[COMPLETIONS - 2], format!("lib{:05}", COMPLETIONS - 2));
        assert_eq!(names[COMPLETIONS - 1], "lid");
        let names = complete(&index, "lib").unwrap();
        assert_eq!(names[COMPLETIONS - 1], "libz-last");

        // Merged with another index's (the AUR's): still the first names
        // of the union and its last, each once.
        let aur: Vec<_> = ["lia", "lib00001", "libzz-aur"]
            .iter()
            .map(|n| record(n, "", 0))
            .collect();
        let aur = Index::from_records(meta(), aur);
        let merged = merge_completions(
            complete(&index, "li").unwrap(),
            complete(&aur, "li").unwrap(),
        );
        assert_eq!(merged.len(), COMPLETIONS);
        assert_eq!(merged[..3], ["lia", "lib00000", "lib00001"]);
        assert_eq!(
            merged[COMPLETIONS - 2],
            format!("lib{:05}", COMPLETIONS - 3)
        );
        assert_eq!(merged[COMPLETIONS - 1], "lid");
        let merged = merge_completions(
            complete(&index, "libz").unwrap(),
            complete(&aur, "libz").unwrap(),
        );
        assert_eq!(merged, ["libz-last", "libzz-aur"]);
    }

    #[test]
    fn the_quick_test_never_drops_a_name_nucleo_would_match() {
        let names = [
            "vim",
            "neovim",
            "vim-gtk3",
            "gvim",
            "libvterm0",
            "xxd",
            "evince",
            "v-i-m",
            "VIM-Doc",
            "python3-pyvmomi",
            "vifm",
            "ivm",
            "mv",
            "libvirt-daemon",
            "naïve-vim",
        ];
        let queries = [
            "vim", "VIM", "v m", "vi", "mvi", "lvd", "'vim", "^vi", "vim$", "!vim",
        ];
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
        let mut spared = 0;
        for query in queries {
            let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
            let plain = plain_words(query);
            for name in names {
                let nucleo = pattern.score(Utf32Str::new(name, &mut buf), &mut matcher);
                if !may_match(name, plain.as_deref()) {
                    assert_eq!(nucleo, None, "{query:?} against {name:?}");
                    spared += 1;
                }
            }
        }
        assert!(spared > 40, "the quick test rules names out ({spared})");
        assert_eq!(plain_words("'vim"), None);
        assert!(may_match("naïve", plain_words("nv").as_deref()));
    }

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
                sources: Default::default(),
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
        let kinds: Vec<_> = r
            .hits
            .iter()
            .map(|h| (h.name.as_str(), h.matched))
            .collect();
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
    fn scanning_ignores_case_and_respects_fields() {
        let mut hits = Vec::new();
        find_all(b"Vi IMproved, vim", b"im", |s| hits.push(s));
        assert_eq!(hits, [3, 14]);
        let index = sample();
        let found = |needle: &str, want: Field| {
            let mut names = Vec::new();
            scan(&index.view(), needle, |i, field| {
                if field == want {
                    names.push(index.name(i).to_string())
                }
            });
            names
        };
        assert_eq!(
            found("improved", Field::Summary),
            ["vim", "vim-gtk3", "vim-tiny"]
        );
        assert_eq!(found("vim-like", Field::Provides), ["neovim"]);
        assert!(found("vim-like", Field::Summary).is_empty());
        // "vim" is in neovim's summary and in its provides: both reported.
        assert!(found("vim", Field::Summary).contains(&"neovim".to_string()));
        assert_eq!(found("vim", Field::Provides), ["neovim"]);
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
        assert_eq!(
            suggest(&index, "vmi", 5)[0],
            "vim",
            "a typo beats fuzzy matches"
        );
        assert!(suggest(&index, "zzzzzz", 5).is_empty());
    }
}
