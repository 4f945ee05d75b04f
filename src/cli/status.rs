//! `omg status`: a short summary of the package database and the index;
//! `--prometheus`, the metrics the workers write to `omg.prom`.

use std::io::Write;

use super::output::{self, Fields};
use super::{EXIT_OK, Failure, Session, print_json, unexpected};
use crate::ipc::protocol::{RequestBody, ResponseBody};
use crate::model::IndexSource;
use clap::Args;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON
    #[arg(long, conflicts_with = "prometheus")]
    pub json: bool,
    /// Print the Prometheus metrics (node_exporter's textfile format), as
    /// the refresh and scan workers write them to omg.prom
    #[arg(long)]
    pub prometheus: bool,
}

pub async fn run(session: &mut Session, args: &StatusArgs) -> Result<u8, Failure> {
    if args.prometheus {
        let ResponseBody::Metrics(text) = session.request(RequestBody::Metrics).await? else {
            return Err(unexpected());
        };
        print!("{text}");
        return Ok(EXIT_OK);
    }
    let ResponseBody::Status(s) = session.request(RequestBody::Status).await? else {
        return Err(unexpected());
    };
    if args.json {
        print_json(&s)?;
        return Ok(EXIT_OK);
    }
    let now = crate::unix_now();
    let f = Fields {
        label_width: 12,
        width: output::terminal_width(),
    };
    let mut out = anstream::stdout().lock();
    f.line(
        &mut out,
        "Backend",
        &format!("{} ({})", s.backend.as_str(), s.backend_version),
    )?;
    f.line(
        &mut out,
        "Packages",
        &format!(
            "{} installed ({} explicit), {} available",
            s.installed, s.explicit, s.available
        ),
    )?;
    f.line(&mut out, "Upgradable", &s.upgradable.to_string())?;
    f.line(&mut out, "Orphans", &s.orphans.to_string())?;
    let refresh = s
        .last_refresh
        .map_or_else(|| "unknown".to_string(), |t| output::human_time(t, now));
    f.line(&mut out, "Last refresh", &refresh)?;
    let check = match &s.update_check {
        None => "never run (omgd work refresh, or omgd-refresh.timer)".to_string(),
        Some(c) => match c.last_success {
            Some(t) => format!(
                "{} updates upstream, checked {}",
                c.updates,
                output::human_time(t, now)
            ),
            None => "never succeeded".to_string(),
        },
    };
    f.line(&mut out, "Update check", &check)?;
    let vulns = match &s.vulnerabilities {
        Some(v) => format!(
            "{} installed package{} affected ({}, fetched {})",
            v.affected,
            if v.affected == 1 { "" } else { "s" },
            v.source,
            output::human_time(v.fetched_at, crate::unix_now())
        ),
        None => "never checked (omg audit)".into(),
    };
    f.line(&mut out, "Vulnerabilities", &vulns)?;
    if s.config_merges > 0 {
        f.line(
            &mut out,
            "Config files",
            &format!("{} waiting for a merge (omg merge)", s.config_merges),
        )?;
    }
    if s.reboot_required {
        f.line(&mut out, "Reboot", "needed for an update to take effect")?;
    }
    let source = match s.index.source {
        IndexSource::Snapshot => "loaded from the snapshot",
        IndexSource::Built => "built from the package database",
    };
    f.line(
        &mut out,
        "Index",
        &format!(
            "{} packages, {source}, built {}",
            s.index.packages,
            output::human_time(s.index.built_at, now)
        ),
    )?;
    if let Some(path) = &s.index.snapshot_path {
        f.line(&mut out, "Snapshot", path)?;
    }
    if let Some(error) = s.update_check.as_ref().and_then(|c| c.error.as_ref()) {
        writeln!(
            out,
            "{}warning:{} the last update check failed: {error}",
            output::WARN.render(),
            output::WARN.render_reset()
        )?;
    }
    if let Some(problem) = &s.index.snapshot_problem {
        writeln!(
            out,
            "{}warning:{} {problem}",
            output::WARN.render(),
            output::WARN.render_reset()
        )?;
    }
    Ok(EXIT_OK)
}
