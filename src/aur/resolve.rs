//! Working out an AUR install: which targets the repositories have, which
//! repository packages the AUR builds need, and which AUR package bases to
//! build, in an order where everything a build needs is installed before
//! it. Pure: the system and the AUR are asked through `System` and a map of
//! the AUR records fetched so far; a name not fetched yet makes `plan`
//! return `Resolution::NeedRecords`, and the caller fetches and asks again.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::rpc::AurPackage;
use crate::version::Depend;

/// What satisfies a dependency on this system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Satisfier {
    /// An installed package does.
    Installed,
    /// This repository package would.
    Repository(String),
    /// Nothing in the repositories.
    Nothing,
}

/// The system's side: installed packages and the repositories.
pub trait System {
    fn satisfier(&mut self, depend: &str) -> Satisfier;

    /// Whether a repository has `target`: a package of that name, one
    /// providing it, or a group (installed or not).
    fn repository_has(&mut self, target: &str) -> bool;
}

/// The AUR records known so far: `None` for a name the AUR does not have.
pub type Records = HashMap<String, Option<AurPackage>>;

/// One package base to build, and what to install from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Build {
    pub pkgbase: String,
    pub version: String,
    /// The packages of this base to install.
    pub packages: Vec<String>,
    /// Those the user asked for (the rest are dependencies).
    pub explicit: Vec<String>,
    /// Where the AUR serves its git repository and snapshot (paths).
    pub snapshot: Option<String>,
    /// Its place in the build graph: 0 needs no other base of the plan,
    /// level n needs bases of levels below n only. Bases of one level are
    /// independent of each other (built at the same time).
    pub level: usize,
    /// The AUR's facts a review points at: who maintains the base (none:
    /// orphaned), when it was first submitted, flagged out of date since.
    pub maintainer: Option<String>,
    pub first_submitted: i64,
    pub out_of_date: Option<i64>,
}

impl Plan {
    /// The builds level by level, each level's bases in plan order.
    pub fn levels(&self) -> Vec<Vec<&Build>> {
        let mut levels: Vec<Vec<&Build>> = Vec::new();
        for build in &self.builds {
            if levels.len() <= build.level {
                levels.resize_with(build.level + 1, Vec::new);
            }
            levels[build.level].push(build);
        }
        levels.retain(|l| !l.is_empty());
        levels
    }
}

/// Everything an AUR install does, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Targets the repositories have (installed by the ordinary transaction).
    pub repo_targets: Vec<String>,
    /// Repository packages the builds need (installed as dependencies).
    pub repo_deps: Vec<String>,
    /// Those of `repo_deps` needed only to build (makedepends and
    /// checkdepends): what `--removemake` takes away afterwards.
    pub repo_make_deps: Vec<String>,
    /// AUR bases, each after everything it needs.
    pub builds: Vec<Build>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Done(Plan),
    /// Fetch these names' AUR records, then plan again.
    NeedRecords(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("target not found in the repositories or the AUR: {}", .0.join(", "))]
    NotFound(Vec<String>),
    #[error("cannot satisfy these dependencies:\n{}", .0.iter().map(|m| format!("  - {m}")).collect::<Vec<_>>().join("\n"))]
    Missing(Vec<String>),
    #[error("dependency cycle: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
}

struct Walk<'a, S: System> {
    system: &'a mut S,
    records: &'a Records,
    need: BTreeSet<String>,
    missing: Vec<String>,
    repo_deps: BTreeSet<String>,
    /// Repository packages some AUR package needs at run time.
    repo_run_deps: BTreeSet<String>,
    /// AUR packages chosen, in the order they must be built (post-order).
    order: Vec<&'a AurPackage>,
    explicit: BTreeSet<String>,
    /// (package, AUR package it needs), by name.
    edges: Vec<(String, String)>,
    /// The packages being resolved, outermost first (for cycles).
    stack: Vec<&'a AurPackage>,
    cycle: Option<Vec<String>>,
}

impl<'a, S: System> Walk<'a, S> {
    /// A chosen (or being chosen) AUR package that meets `depend`.
    fn chosen(&self, depend: &Depend) -> Option<&'a AurPackage> {
        self.order
            .iter()
            .chain(self.stack.iter())
            .copied()
            .find(|p| {
                depend.satisfied_by(&p.name, &p.version, p.provides.iter().map(String::as_str))
            })
    }

    fn visit(&mut self, pkg: &'a AurPackage) {
        if self.order.iter().any(|p| p.name == pkg.name) {
            return;
        }
        if let Some(at) = self.stack.iter().position(|p| p.name == pkg.name) {
            // Packages of one base are built together: no cycle there.
            if self.stack[at..]
                .iter()
                .all(|p| p.package_base == pkg.package_base)
            {
                return;
            }
            if self.cycle.is_none() {
                let mut path: Vec<String> =
                    self.stack[at..].iter().map(|p| p.name.clone()).collect();
                path.push(pkg.name.clone());
                self.cycle = Some(path);
            }
            return;
        }
        self.stack.push(pkg);
        let deps = pkg
            .depends
            .iter()
            .map(|d| (d, true))
            .chain(pkg.make_depends.iter().map(|d| (d, false)))
            .chain(pkg.check_depends.iter().map(|d| (d, false)));
        for (text, at_run_time) in deps {
            let depend = Depend::parse(text);
            if let Some(found) = self.chosen(&depend) {
                if found.name != pkg.name {
                    self.edges.push((pkg.name.clone(), found.name.clone()));
                    self.visit(found);
                }
                continue;
            }
            match self.system.satisfier(text) {
                Satisfier::Installed => continue,
                Satisfier::Repository(name) => {
                    if at_run_time {
                        self.repo_run_deps.insert(name.clone());
                    }
                    self.repo_deps.insert(name);
                    continue;
                }
                Satisfier::Nothing => {}
            }
            match self.records.get(&depend.name) {
                None => {
                    self.need.insert(depend.name.clone());
                }
                Some(None) => self
                    .missing
                    .push(format!("{text} (needed by {})", pkg.name)),
                Some(Some(candidate)) => {
                    if depend.satisfied_by(
                        &candidate.name,
                        &candidate.version,
                        candidate.provides.iter().map(String::as_str),
                    ) {
                        self.edges.push((pkg.name.clone(), candidate.name.clone()));
                        self.visit(candidate);
                    } else {
                        self.missing.push(format!(
                            "{text} (needed by {}; the AUR has {} {})",
                            pkg.name, candidate.name, candidate.version
                        ));
                    }
                }
            }
        }
        self.stack.pop();
        if !self.order.iter().any(|p| p.name == pkg.name) {
            self.order.push(pkg);
        }
    }
}

/// Plans installing `targets`. A target the repositories have stays with
/// them unless written `aur/name`.
pub fn plan<S: System>(
    targets: &[String],
    system: &mut S,
    records: &Records,
) -> Result<Resolution, ResolveError> {
    let mut walk = Walk {
        system,
        records,
        need: BTreeSet::new(),
        missing: Vec::new(),
        repo_deps: BTreeSet::new(),
        repo_run_deps: BTreeSet::new(),
        order: Vec::new(),
        explicit: BTreeSet::new(),
        edges: Vec::new(),
        stack: Vec::new(),
        cycle: None,
    };
    let mut repo_targets = Vec::new();
    let mut not_found = Vec::new();
    for target in targets {
        let (forced, name) = match target.strip_prefix("aur/") {
            Some(name) => (true, name),
            None => (false, target.as_str()),
        };
        // Package files, `repo/name` and what a repository has (by name,
        // provision or group) are the repositories'.
        let file = target.contains(".pkg.tar");
        let repo_named = !forced && target.contains('/');
        if file || repo_named || (!forced && walk.system.repository_has(name)) {
            repo_targets.push(target.clone());
            continue;
        }
        match records.get(name) {
            None => {
                walk.need.insert(name.to_string());
            }
            Some(None) => not_found.push(target.clone()),
            Some(Some(pkg)) => {
                walk.explicit.insert(pkg.name.clone());
                walk.visit(pkg);
            }
        }
    }
    if !walk.need.is_empty() {
        return Ok(Resolution::NeedRecords(walk.need.into_iter().collect()));
    }
    if !not_found.is_empty() {
        return Err(ResolveError::NotFound(not_found));
    }
    if let Some(cycle) = walk.cycle {
        return Err(ResolveError::Cycle(cycle));
    }
    if !walk.missing.is_empty() {
        return Err(ResolveError::Missing(walk.missing));
    }
    // One build per base, where its first package falls in the order.
    let mut builds: Vec<Build> = Vec::new();
    let mut position: BTreeMap<String, usize> = BTreeMap::new();
    for pkg in &walk.order {
        let at = *position.entry(pkg.package_base.clone()).or_insert_with(|| {
            builds.push(Build {
                pkgbase: pkg.package_base.clone(),
                version: pkg.version.clone(),
                packages: Vec::new(),
                explicit: Vec::new(),
                snapshot: pkg.url_path.clone(),
                level: 0,
                maintainer: pkg.maintainer.clone(),
                first_submitted: pkg.first_submitted,
                out_of_date: pkg.out_of_date,
            });
            builds.len() - 1
        });
        builds[at].packages.push(pkg.name.clone());
        if walk.explicit.contains(&pkg.name) {
            builds[at].explicit.push(pkg.name.clone());
        }
    }
    let base_of: HashMap<&str, &str> = walk
        .order
        .iter()
        .map(|p| (p.name.as_str(), p.package_base.as_str()))
        .collect();
    let needs: Vec<(&str, &str)> = walk
        .edges
        .iter()
        .filter_map(|(pkg, dep)| {
            let (from, to) = (*base_of.get(pkg.as_str())?, *base_of.get(dep.as_str())?);
            (from != to).then_some((from, to))
        })
        .collect();
    set_levels(&mut builds, &needs)?;
    let repo_make_deps = walk
        .repo_deps
        .difference(&walk.repo_run_deps)
        .cloned()
        .collect();
    Ok(Resolution::Done(Plan {
        repo_targets,
        repo_deps: walk.repo_deps.into_iter().collect(),
        repo_make_deps,
        builds,
    }))
}

/// Gives each build its level (one more than the highest base it needs)
/// and puts the builds in level order. Two bases that need each other
/// (through different packages) cannot be built: a cycle.
fn set_levels(builds: &mut [Build], needs: &[(&str, &str)]) -> Result<(), ResolveError> {
    let mut level: HashMap<&str, usize> =
        needs.iter().flat_map(|&(a, b)| [(a, 0), (b, 0)]).collect();
    // Longest path in a graph of n bases: n - 1 rounds settle it; a change
    // in round n means a cycle.
    for round in 0..=builds.len() {
        let mut changed = None;
        for &(from, to) in needs {
            let wanted = level[to] + 1;
            if level[from] < wanted {
                level.insert(from, wanted);
                changed = Some((from, to));
            }
        }
        match changed {
            None => break,
            Some((from, to)) if round == builds.len() => {
                return Err(ResolveError::Cycle(vec![
                    from.into(),
                    to.into(),
                    from.into(),
                ]));
            }
            Some(_) => {}
        }
    }
    for build in builds.iter_mut() {
        build.level = level.get(build.pkgbase.as_str()).copied().unwrap_or(0);
    }
    // Stable: within a level, the plan's order.
    builds.sort_by_key(|b| b.level);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A system: installed names, and repository packages with what they
    /// provide.
    struct Fake {
        installed: Vec<&'static str>,
        repo: Vec<(&'static str, &'static str, Vec<&'static str>)>,
    }

    impl System for Fake {
        fn satisfier(&mut self, text: &str) -> Satisfier {
            let depend = Depend::parse(text);
            if self.installed.contains(&depend.name.as_str()) {
                return Satisfier::Installed;
            }
            for (name, version, provides) in &self.repo {
                if depend.satisfied_by(name, version, provides.iter().copied()) {
                    return Satisfier::Repository(name.to_string());
                }
            }
            Satisfier::Nothing
        }

        fn repository_has(&mut self, target: &str) -> bool {
            let depend = Depend::parse(target);
            self.repo.iter().any(|(name, version, provides)| {
                depend.satisfied_by(name, version, provides.iter().copied())
            })
        }
    }

    fn aur(name: &str, base: &str, version: &str, depends: &[&str], make: &[&str]) -> AurPackage {
        AurPackage {
            name: name.into(),
            package_base: base.into(),
            version: version.into(),
            description: None,
            url: None,
            num_votes: 0,
            popularity: 0.0,
            out_of_date: None,
            maintainer: None,
            first_submitted: 0,
            last_modified: 0,
            url_path: Some(format!("/cgit/aur.git/snapshot/{base}.tar.gz")),
            depends: depends.iter().map(|s| s.to_string()).collect(),
            make_depends: make.iter().map(|s| s.to_string()).collect(),
            check_depends: Vec::new(),
            opt_depends: Vec::new(),
            provides: Vec::new(),
            conflicts: Vec::new(),
            replaces: Vec::new(),
            groups: Vec::new(),
            license: Vec::new(),
            keywords: Vec::new(),
        }
    }

    fn records(list: Vec<AurPackage>, absent: &[&str]) -> Records {
        let mut map: Records = list
            .into_iter()
            .map(|p| (p.name.clone(), Some(p)))
            .collect();
        for name in absent {
            map.insert(name.to_string(), None);
        }
        map
    }

    fn system() -> Fake {
        Fake {
            installed: vec!["glibc"],
            repo: vec![
                ("gcc", "14.1-1", vec![]),
                ("python", "3.12.4-1", vec!["python3=3.12.4"]),
                ("rustup", "1.27-1", vec!["cargo", "rust"]),
                ("ripgrep", "14.1-1", vec![]),
            ],
        }
    }

    fn targets(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn done(result: Result<Resolution, ResolveError>) -> Plan {
        match result {
            Ok(Resolution::Done(plan)) => plan,
            other => panic!("expected a plan, got {other:?}"),
        }
    }

    fn bases(plan: &Plan) -> Vec<&str> {
        plan.builds.iter().map(|b| b.pkgbase.as_str()).collect()
    }

    #[test]
    fn a_deep_chain_builds_from_the_bottom_and_asks_for_records_first() {
        let chain = vec![
            aur("app", "app", "1-1", &["lib-a"], &["cargo"]),
            aur("lib-a", "lib-a", "1-1", &["lib-b>=2"], &[]),
            aur("lib-b", "lib-b", "2.1-1", &["lib-c", "python3"], &[]),
            aur("lib-c", "lib-c", "1-1", &["glibc"], &["gcc"]),
        ];
        let mut sys = system();
        // Nothing fetched: the targets first.
        assert_eq!(
            plan(&targets(&["app"]), &mut sys, &Records::new()),
            Ok(Resolution::NeedRecords(vec!["app".into()]))
        );
        let only_app = records(vec![chain[0].clone()], &[]);
        assert_eq!(
            plan(&targets(&["app"]), &mut sys, &only_app),
            Ok(Resolution::NeedRecords(vec!["lib-a".into()]))
        );
        let all = records(chain, &[]);
        let plan = done(plan(&targets(&["app"]), &mut sys, &all));
        assert_eq!(bases(&plan), ["lib-c", "lib-b", "lib-a", "app"]);
        assert_eq!(plan.repo_deps, ["gcc", "python", "rustup"]);
        assert_eq!(plan.repo_make_deps, ["gcc", "rustup"]);
        assert!(plan.repo_targets.is_empty());
        assert_eq!(plan.builds[3].explicit, ["app"]);
        assert!(plan.builds[0].explicit.is_empty());
    }

    #[test]
    fn split_packages_are_built_once() {
        let list = vec![
            aur(
                "jellyfin",
                "jellyfin",
                "10.8.4-1",
                &["jellyfin-web=10.8.4", "jellyfin-server=10.8.4"],
                &["python"],
            ),
            aur("jellyfin-web", "jellyfin", "10.8.4-1", &[], &["python"]),
            aur(
                "jellyfin-server",
                "jellyfin",
                "10.8.4-1",
                &["glibc"],
                &["python"],
            ),
        ];
        let plan = done(plan(
            &targets(&["jellyfin"]),
            &mut system(),
            &records(list, &[]),
        ));
        assert_eq!(bases(&plan), ["jellyfin"]);
        assert_eq!(
            plan.builds[0].packages,
            ["jellyfin-web", "jellyfin-server", "jellyfin"]
        );
        assert_eq!(plan.builds[0].explicit, ["jellyfin"]);
    }

    #[test]
    fn cycles_and_missing_dependencies_are_clear_errors() {
        let cycle = vec![
            aur("a", "a", "1-1", &["b"], &[]),
            aur("b", "b", "1-1", &["c"], &[]),
            aur("c", "c", "1-1", &["a"], &[]),
        ];
        assert_eq!(
            plan(&targets(&["a"]), &mut system(), &records(cycle, &[])),
            Err(ResolveError::Cycle(vec![
                "a".into(),
                "b".into(),
                "c".into(),
                "a".into()
            ]))
        );
        let missing = vec![aur("a", "a", "1-1", &["ghost"], &[])];
        let err = plan(
            &targets(&["a"]),
            &mut system(),
            &records(missing, &["ghost"]),
        )
        .unwrap_err();
        assert_eq!(
            err,
            ResolveError::Missing(vec!["ghost (needed by a)".into()])
        );
        let err = plan(
            &targets(&["nothing"]),
            &mut system(),
            &records(vec![], &["nothing"]),
        )
        .unwrap_err();
        assert_eq!(err, ResolveError::NotFound(vec!["nothing".into()]));
    }

    #[test]
    fn versions_must_fit() {
        let list = vec![
            aur("a", "a", "1-1", &["b>=2"], &[]),
            aur("b", "b", "1.5-1", &[], &[]),
        ];
        let err = plan(&targets(&["a"]), &mut system(), &records(list, &[])).unwrap_err();
        assert_eq!(
            err,
            ResolveError::Missing(vec!["b>=2 (needed by a; the AUR has b 1.5-1)".into()])
        );
        // A repository provider with the right version satisfies it.
        let list = vec![aur("a", "a", "1-1", &["python3>=3.10"], &[])];
        let plan = done(plan(&targets(&["a"]), &mut system(), &records(list, &[])));
        assert_eq!(plan.repo_deps, ["python"]);
    }

    #[test]
    fn the_repositories_win_unless_the_aur_is_named() {
        let list = vec![aur("ripgrep", "ripgrep", "99-1", &[], &[])];
        let recs = records(list, &[]);
        let plan_repo = done(plan(&targets(&["ripgrep"]), &mut system(), &recs));
        assert_eq!(plan_repo.repo_targets, ["ripgrep"]);
        assert!(plan_repo.builds.is_empty());
        let plan_aur = done(plan(&targets(&["aur/ripgrep"]), &mut system(), &recs));
        assert_eq!(bases(&plan_aur), ["ripgrep"]);
    }

    #[test]
    fn an_aur_package_providing_a_dependency_is_used() {
        let mut provider = aur("libfoo-git", "libfoo-git", "r10-1", &[], &[]);
        provider.provides = vec!["libfoo=1.2".into()];
        let list = vec![
            aur("app", "app", "1-1", &["libfoo-git", "libfoo>=1"], &[]),
            provider,
        ];
        let plan = done(plan(&targets(&["app"]), &mut system(), &records(list, &[])));
        assert_eq!(bases(&plan), ["libfoo-git", "app"]);
    }

    fn levels_of(plan: &Plan) -> Vec<Vec<&str>> {
        plan.levels()
            .iter()
            .map(|l| l.iter().map(|b| b.pkgbase.as_str()).collect())
            .collect()
    }

    #[test]
    fn independent_bases_share_a_level_and_each_comes_after_what_it_needs() {
        let list = vec![
            aur("app", "app", "1-1", &["lib-a", "lib-b"], &[]),
            aur("tool", "tool", "1-1", &["lib-b"], &[]),
            aur("lib-a", "lib-a", "1-1", &["lib-c"], &[]),
            aur("lib-b", "lib-b", "1-1", &[], &[]),
            aur("lib-c", "lib-c", "1-1", &[], &[]),
            aur("solo", "solo", "1-1", &[], &[]),
        ];
        let plan = done(plan(
            &targets(&["app", "tool", "solo"]),
            &mut system(),
            &records(list, &[]),
        ));
        assert_eq!(
            levels_of(&plan),
            [
                vec!["lib-c", "lib-b", "solo"],
                vec!["lib-a", "tool"],
                vec!["app"]
            ]
        );
        assert_eq!(
            plan.builds.iter().map(|b| b.level).collect::<Vec<_>>(),
            [0, 0, 0, 1, 1, 2]
        );
    }

    #[test]
    fn a_base_whose_later_package_needs_another_base_is_built_after_it() {
        // x1 needs nothing, x2 (same base) needs y: the base x waits for y
        // although x1 came first in the walk.
        let list = vec![
            aur("x1", "x", "1-1", &["x2"], &[]),
            aur("x2", "x", "1-1", &["y"], &[]),
            aur("y", "y", "1-1", &[], &[]),
        ];
        let planned = done(plan(&targets(&["x1"]), &mut system(), &records(list, &[])));
        assert_eq!(levels_of(&planned), [vec!["y"], vec!["x"]]);
        // Two bases needing each other through different packages.
        let list = vec![
            aur("x1", "x", "1-1", &["y"], &[]),
            aur("y", "y", "1-1", &["x2"], &[]),
            aur("x2", "x", "1-1", &[], &[]),
        ];
        assert!(matches!(
            plan(&targets(&["x1"]), &mut system(), &records(list, &[])),
            Err(ResolveError::Cycle(_))
        ));
    }
}
