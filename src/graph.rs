//! The installed packages as a dependency graph, and the questions people
//! ask of it: why is this installed (the chains from packages installed on
//! request down to it), what needs it (the reverse tree), what does it pull
//! in (the dependency tree), and what would removing it free (it, and the
//! dependencies nothing else keeps: pacman's `-Rs`, apt's autoremove).

use std::collections::{BTreeSet, HashMap, VecDeque};

use serde::Serialize;

use crate::model::GraphNode;

pub struct Graph {
    nodes: Vec<GraphNode>,
    by_name: HashMap<String, usize>,
    /// For each node, the nodes that depend on it.
    required_by: Vec<Vec<usize>>,
    /// For each node, the nodes that recommend it (weaker).
    recommended_by: Vec<Vec<usize>>,
}

/// Why a package is installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Why {
    pub name: String,
    pub version: String,
    pub explicit: bool,
    /// Chains from a package installed on request down to this one
    /// (shortest first; one per such package).
    pub chains: Vec<Vec<String>>,
    /// The chains go through weaker relations (Recommends, optional
    /// dependencies): nothing needs it strictly.
    pub weak: bool,
}

/// A package and what hangs below it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tree {
    pub name: String,
    pub version: String,
    pub size: u64,
    /// Shown higher up already (its subtree is not repeated).
    pub repeated: bool,
    pub children: Vec<Tree>,
}

/// What removing a package would take with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removal {
    /// The package first, then the dependencies nothing else keeps.
    pub packages: Vec<String>,
    pub freed: u64,
}

impl Graph {
    pub fn new(nodes: Vec<GraphNode>) -> Graph {
        let by_name: HashMap<String, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i))
            .collect();
        let mut required_by = vec![Vec::new(); nodes.len()];
        let mut recommended_by = vec![Vec::new(); nodes.len()];
        for (i, node) in nodes.iter().enumerate() {
            for d in &node.depends {
                if let Some(&j) = by_name.get(d) {
                    required_by[j].push(i);
                }
            }
            for d in &node.recommends {
                if let Some(&j) = by_name.get(d) {
                    recommended_by[j].push(i);
                }
            }
        }
        Graph {
            nodes,
            by_name,
            required_by,
            recommended_by,
        }
    }

    pub fn get(&self, name: &str) -> Option<&GraphNode> {
        self.by_name.get(name).map(|&i| &self.nodes[i])
    }

    pub fn nodes(&self) -> &[GraphNode] {
        &self.nodes
    }

    /// Installed as dependencies, and nothing installed needs them (not
    /// even weakly): what `pacman -Qdt` lists.
    pub fn orphans(&self) -> Vec<&GraphNode> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| {
                !n.explicit && self.required_by[*i].is_empty() && self.recommended_by[*i].is_empty()
            })
            .map(|(_, n)| n)
            .collect()
    }

    /// Why `name` is installed; `None` when it is not.
    pub fn why(&self, name: &str) -> Option<Why> {
        let &start = self.by_name.get(name)?;
        let node = &self.nodes[start];
        let mut chains = self.chains(start, false);
        let mut weak = false;
        if chains.is_empty() && !node.explicit {
            chains = self.chains(start, true);
            weak = !chains.is_empty();
        }
        Some(Why {
            name: node.name.clone(),
            version: node.version.clone(),
            explicit: node.explicit,
            chains,
            weak,
        })
    }

    /// Breadth-first up the reverse edges from `start`: the shortest chain
    /// to each explicitly installed package reached.
    fn chains(&self, start: usize, weak: bool) -> Vec<Vec<String>> {
        let mut parent: HashMap<usize, usize> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        let mut seen = BTreeSet::from([start]);
        let mut roots = Vec::new();
        while let Some(i) = queue.pop_front() {
            if i != start && self.nodes[i].explicit {
                roots.push(i);
            }
            let up = self.required_by[i].iter().chain(
                weak.then_some(&self.recommended_by[i])
                    .into_iter()
                    .flatten(),
            );
            for &j in up {
                if seen.insert(j) {
                    parent.insert(j, i);
                    queue.push_back(j);
                }
            }
        }
        roots
            .into_iter()
            .map(|root| {
                let mut chain = vec![self.nodes[root].name.clone()];
                let mut at = root;
                while let Some(&below) = parent.get(&at) {
                    chain.push(self.nodes[below].name.clone());
                    at = below;
                }
                chain
            })
            .collect()
    }

    /// Everything that depends on `name`, directly or not.
    pub fn reverse_tree(&self, name: &str) -> Option<Tree> {
        let &i = self.by_name.get(name)?;
        let mut shown = BTreeSet::new();
        Some(self.tree_of(i, &mut shown, &|g, i| g.required_by[i].clone()))
    }

    /// Everything `name` depends on, directly or not.
    pub fn dependency_tree(&self, name: &str) -> Option<Tree> {
        let &i = self.by_name.get(name)?;
        let mut shown = BTreeSet::new();
        Some(self.tree_of(i, &mut shown, &|g, i| {
            g.nodes[i]
                .depends
                .iter()
                .filter_map(|d| g.by_name.get(d).copied())
                .collect()
        }))
    }

    fn tree_of(
        &self,
        i: usize,
        shown: &mut BTreeSet<usize>,
        next: &dyn Fn(&Graph, usize) -> Vec<usize>,
    ) -> Tree {
        let node = &self.nodes[i];
        let repeated = !shown.insert(i);
        let mut children = Vec::new();
        if !repeated {
            let mut below = next(self, i);
            below.sort_by(|a, b| self.nodes[*a].name.cmp(&self.nodes[*b].name));
            below.dedup();
            for j in below {
                children.push(self.tree_of(j, shown, next));
            }
        }
        Tree {
            name: node.name.clone(),
            version: node.version.clone(),
            size: node.size,
            repeated,
            children,
        }
    }

    /// What removing `name` takes with it: its dependencies (and theirs)
    /// installed as dependencies that nothing outside the removal needs
    /// or recommends.
    pub fn removal(&self, name: &str) -> Option<Removal> {
        let &start = self.by_name.get(name)?;
        let mut set = BTreeSet::from([start]);
        let mut order = vec![start];
        loop {
            let mut added = false;
            let candidates: Vec<usize> = order
                .iter()
                .flat_map(|&i| {
                    self.nodes[i]
                        .depends
                        .iter()
                        .chain(&self.nodes[i].recommends)
                })
                .filter_map(|d| self.by_name.get(d).copied())
                .collect();
            for c in candidates {
                if set.contains(&c) || self.nodes[c].explicit {
                    continue;
                }
                let kept = self.required_by[c]
                    .iter()
                    .chain(&self.recommended_by[c])
                    .any(|k| !set.contains(k));
                if !kept {
                    set.insert(c);
                    order.push(c);
                    added = true;
                }
            }
            if !added {
                break;
            }
        }
        Some(Removal {
            freed: order.iter().map(|&i| self.nodes[i].size).sum(),
            packages: order
                .into_iter()
                .map(|i| self.nodes[i].name.clone())
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(
        name: &str,
        explicit: bool,
        size: u64,
        depends: &[&str],
        recommends: &[&str],
    ) -> GraphNode {
        GraphNode {
            name: name.into(),
            version: "1".into(),
            explicit,
            size,
            depends: depends.iter().map(|s| s.to_string()).collect(),
            recommends: recommends.iter().map(|s| s.to_string()).collect(),
            install_date: None,
            repository: "test".into(),
        }
    }

    fn graph() -> Graph {
        Graph::new(vec![
            node("app", true, 100, &["libmid", "libc"], &["docs"]),
            node("tool", true, 10, &["libc"], &[]),
            node("libmid", false, 50, &["libbase", "libc"], &[]),
            node("libbase", false, 20, &["libc"], &[]),
            node("libc", false, 1000, &[], &[]),
            node("docs", false, 5, &[], &[]),
            node("leftover", false, 7, &[], &[]),
        ])
    }

    #[test]
    fn why_follows_the_shortest_chains_to_what_was_asked_for() {
        let g = graph();
        let why = g.why("libbase").unwrap();
        assert!(!why.explicit);
        assert_eq!(why.chains, [vec!["app", "libmid", "libbase"]]);
        let why = g.why("libc").unwrap();
        assert_eq!(why.chains, [vec!["app", "libc"], vec!["tool", "libc"]]);
        let why = g.why("docs").unwrap();
        assert!(why.weak);
        assert_eq!(why.chains, [vec!["app", "docs"]]);
        assert!(g.why("leftover").unwrap().chains.is_empty());
        assert!(g.why("ghost").is_none());
        let names: Vec<&str> = g.orphans().iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["leftover"]);
    }

    #[test]
    fn removing_a_package_frees_what_only_it_needed() {
        let g = graph();
        let r = g.removal("app").unwrap();
        assert_eq!(r.packages, ["app", "libmid", "docs", "libbase"]);
        assert_eq!(r.freed, 175);
        // libc stays: tool needs it.
        let r = g.removal("tool").unwrap();
        assert_eq!(r.packages, ["tool"]);
    }

    #[test]
    fn trees_show_each_package_once() {
        let g = graph();
        let t = g.dependency_tree("app").unwrap();
        let names: Vec<(&str, bool)> = t
            .children
            .iter()
            .map(|c| (c.name.as_str(), c.repeated))
            .collect();
        assert_eq!(names, [("libc", false), ("libmid", false)]);
        // libmid's libc was shown under app already.
        let libmid = &t.children[1];
        assert!(
            libmid
                .children
                .iter()
                .any(|c| c.name == "libc" && c.repeated)
        );
        let r = g.reverse_tree("libbase").unwrap();
        assert_eq!(r.children[0].name, "libmid");
        assert_eq!(r.children[0].children[0].name, "app");
    }
}
