//! `omg why PKG [--reverse]`, `omg size [--limit N] [--tree PKG]` and
//! `omg blame PKG`: questions about the installed packages, answered from
//! the dependency graph omgd reads from the package database (and, for
//! blame, the history).

use std::io::Write;

use super::output::{self, Cell, NAME, Table, VERSION};
use super::{EXIT_FAILURE, EXIT_OK, Failure, Session, print_json, unexpected};
use crate::graph::{Graph, Tree};
use crate::ipc::protocol::{RequestBody, ResponseBody};
use clap::Args;

#[derive(Debug, Args)]
pub struct WhyArgs {
    pub package: String,
    /// Show every installed package that depends on it, as a tree
    #[arg(long)]
    pub reverse: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SizeArgs {
    /// How many to show
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Show this package's dependency tree with sizes instead
    #[arg(long, value_name = "PKG")]
    pub tree: Option<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// `omg why`.
pub async fn why(session: &mut Session, args: &WhyArgs) -> Result<u8, Failure> {
    run_why(session, &args.package, args.reverse, args.json).await
}

/// `omg size`.
pub async fn size(session: &mut Session, args: &SizeArgs) -> Result<u8, Failure> {
    run_size(session, args.limit, args.tree.as_deref(), args.json).await
}

async fn graph(session: &mut Session) -> Result<Graph, Failure> {
    match session.request(RequestBody::Graph).await? {
        ResponseBody::Graph(nodes) => Ok(Graph::new(nodes)),
        _ => Err(unexpected()),
    }
}

fn not_installed(name: &str) -> Failure {
    Failure::new(format!("{name} is not installed"), EXIT_FAILURE)
}

/// Draws a tree with box-drawing branches.
fn draw(tree: &Tree, sizes: bool, out: &mut impl Write) -> std::io::Result<()> {
    fn walk(
        tree: &Tree,
        prefix: &str,
        last: bool,
        root: bool,
        sizes: bool,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let branch = match (root, last) {
            (true, _) => "",
            (false, true) => "└─ ",
            (false, false) => "├─ ",
        };
        let size = if sizes {
            format!(" ({})", output::human_size(tree.size))
        } else {
            String::new()
        };
        let mark = if tree.repeated { " …" } else { "" };
        writeln!(
            out,
            "{prefix}{branch}{NAME}{}{NAME:#} {VERSION}{}{VERSION:#}{size}{mark}",
            tree.name, tree.version
        )?;
        let below = match (root, last) {
            (true, _) => prefix.to_string(),
            (false, true) => format!("{prefix}   "),
            (false, false) => format!("{prefix}│  "),
        };
        for (i, child) in tree.children.iter().enumerate() {
            walk(
                child,
                &below,
                i + 1 == tree.children.len(),
                false,
                sizes,
                out,
            )?;
        }
        Ok(())
    }
    walk(tree, "", true, true, sizes, out)
}

/// `omg why PKG [--reverse] [--json]`.
pub async fn run_why(
    session: &mut Session,
    name: &str,
    reverse: bool,
    json: bool,
) -> Result<u8, Failure> {
    let graph = graph(session).await?;
    let mut out = output::Answer::new();
    if reverse {
        let tree = graph
            .reverse_tree(name)
            .ok_or_else(|| not_installed(name))?;
        if json {
            print_json(&tree)?;
        } else {
            draw(&tree, false, &mut out)?;
            out.finish()?;
        }
        return Ok(EXIT_OK);
    }
    let why = graph.why(name).ok_or_else(|| not_installed(name))?;
    if json {
        print_json(&why)?;
        return Ok(EXIT_OK);
    }
    let how = if why.explicit {
        "was installed on request"
    } else {
        "was installed as a dependency"
    };
    writeln!(out, "{NAME}{}{NAME:#} {} {how}", why.name, why.version)?;
    if why.chains.is_empty() {
        if !why.explicit {
            writeln!(
                out,
                "nothing installed needs it any more: an orphan (omg clean --orphans removes it)"
            )?;
        }
        out.finish()?;
        return Ok(EXIT_OK);
    }
    let what = if why.explicit {
        "packages installed on request also need it:"
    } else if why.weak {
        "nothing needs it strictly; these recommend it (or list it as optional):"
    } else {
        "kept by:"
    };
    writeln!(out, "{what}")?;
    const SHOWN: usize = 20;
    for chain in why.chains.iter().take(SHOWN) {
        writeln!(out, "  {}", chain.join(" → "))?;
    }
    if why.chains.len() > SHOWN {
        writeln!(
            out,
            "  … and {} more (omg why --reverse {name} shows everything)",
            why.chains.len() - SHOWN
        )?;
    }
    out.finish()?;
    Ok(EXIT_OK)
}

/// `omg size [--limit N] [--tree PKG] [--json]`.
pub async fn run_size(
    session: &mut Session,
    limit: usize,
    tree: Option<&str>,
    json: bool,
) -> Result<u8, Failure> {
    let graph = graph(session).await?;
    let mut out = output::Answer::new();
    if let Some(name) = tree {
        let deps = graph
            .dependency_tree(name)
            .ok_or_else(|| not_installed(name))?;
        let removal = graph.removal(name).ok_or_else(|| not_installed(name))?;
        if json {
            print_json(&serde_json::json!({ "tree": deps, "removal": removal }))?;
            return Ok(EXIT_OK);
        }
        draw(&deps, true, &mut out)?;
        writeln!(
            out,
            "removing {name} frees {} ({} package{}: {})",
            output::human_size(removal.freed),
            removal.packages.len(),
            if removal.packages.len() == 1 { "" } else { "s" },
            removal.packages.join(" ")
        )?;
        out.finish()?;
        return Ok(EXIT_OK);
    }
    let mut nodes: Vec<_> = graph.nodes().iter().collect();
    nodes.sort_by(|a, b| b.size.cmp(&a.size).then(a.name.cmp(&b.name)));
    nodes.truncate(limit);
    let rows: Vec<(String, String, u64, u64, usize)> = nodes
        .iter()
        .map(|n| {
            let removal = graph.removal(&n.name);
            let (freed, count) = removal.map_or((n.size, 1), |r| (r.freed, r.packages.len()));
            (n.name.clone(), n.version.clone(), n.size, freed, count)
        })
        .collect();
    if json {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|(name, version, size, freed, count)| {
                serde_json::json!({
                    "name": name, "version": version, "size": size,
                    "removal_frees": freed, "removal_packages": count,
                })
            })
            .collect();
        print_json(&list)?;
        return Ok(EXIT_OK);
    }
    let total: u64 = graph.nodes().iter().map(|n| n.size).sum();
    let table = Table {
        headers: vec!["NAME", "VERSION", "SIZE", "REMOVING IT FREES"],
        caps: vec![40, 30, 10, 30],
        rows: rows
            .iter()
            .map(|(name, version, size, freed, count)| {
                vec![
                    Cell::new(name, NAME),
                    Cell::new(version, VERSION),
                    Cell::plain(output::human_size(*size)),
                    Cell::plain(format!(
                        "{} ({count} package{})",
                        output::human_size(*freed),
                        if *count == 1 { "" } else { "s" }
                    )),
                ]
            })
            .collect(),
    };
    table.print(&mut out, output::terminal_width())?;
    writeln!(
        out,
        "{} installed packages, {} in all",
        graph.nodes().len(),
        output::human_size(total)
    )?;
    out.finish()?;
    Ok(EXIT_OK)
}
