//! Prometheus metrics in node_exporter's textfile format: what the
//! refresh and scan workers write to `omg.prom` and `omg status
//! --prometheus` prints. Pending updates by source and by kind, one info
//! series per pending update, security updates, vulnerable packages by
//! severity, the reboot flag, lock drift and the workers' last successes;
//! where the community collectors (`apt_info.py`, `pacman.sh`) cover the
//! same thing, their metric names too, so existing dashboards and alerts
//! keep working when omg's file replaces theirs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::envlock::Drift;
use crate::model::BackendKind;
use crate::outdated::{Kind, Report, Row, Source};
use crate::security::vulns::{AuditReport, Severity};

/// The file the workers write in the textfile directory.
pub const FILE_NAME: &str = "omg.prom";

/// node_exporter's textfile directory on Debian and Arch: the default
/// when it exists.
pub const NODE_EXPORTER_DIR: &str = "/var/lib/prometheus/node-exporter";

/// Everything the metrics say, gathered by the daemon.
pub struct Facts<'a> {
    pub backend: BackendKind,
    /// Every pending update (what `omg outdated --json` prints).
    pub report: &'a Report,
    /// The last vulnerability scan, when one ran.
    pub audit: Option<&'a AuditReport>,
    /// The architecture of each pending repository update, by name.
    pub architectures: &'a BTreeMap<String, String>,
    /// Installed dependencies nothing needs any more.
    pub orphans: u32,
    /// The last successful refresh of the package lists (Unix time):
    /// omg's private copy's, else the system's.
    pub last_refresh: Option<u64>,
    /// The counts come from a successful refresh of omg's private copy of
    /// the lists, not the system's lists as they were.
    pub from_private_lists: bool,
    /// The last refresh attempt failed.
    pub refresh_failed: bool,
    pub reboot_required: bool,
    /// Config files waiting for `omg merge`.
    pub config_merges: u32,
    /// The lock the machine is compared with, when one is configured.
    pub drift: Option<LockDrift>,
}

/// The machine against `[metrics] lock`.
pub struct LockDrift {
    pub lock: PathBuf,
    /// What differs, or why the comparison could not be made.
    pub outcome: Result<Vec<Drift>, String>,
}

/// One metric family at a time: its HELP and TYPE lines, then samples.
struct Text(String);

impl Text {
    fn family(&mut self, name: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} gauge");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (key, val)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{key}=\"{}\"", escape(val));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    /// A family with one unlabelled sample.
    fn single(&mut self, name: &str, help: &str, value: u64) {
        self.family(name, help);
        self.sample(name, &[], value);
    }
}

/// A label value as the exposition format wants it.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The name a source has in the JSON output and the labels.
pub fn source_label(source: Source) -> &'static str {
    match source {
        Source::Repository => "repository",
        other => other.as_str(),
    }
}

/// The sources a machine has (the project's asks belong to a directory,
/// not to the machine).
const SOURCES: [Source; 4] = [
    Source::Repository,
    Source::Aur,
    Source::Devel,
    Source::Runtime,
];

const KINDS: [Kind; 6] = [
    Kind::Major,
    Kind::Minor,
    Kind::Patch,
    Kind::Packaging,
    Kind::Devel,
    Kind::Missing,
];

const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Unknown,
];

fn bool_value(b: bool) -> u64 {
    u64::from(b)
}

/// The metrics, in the text exposition format.
pub fn render(facts: &Facts<'_>) -> String {
    let mut t = Text(String::new());
    let rows = &facts.report.rows;
    t.family(
        "omg_info",
        "The omg that wrote these metrics and the package manager it drives.",
    );
    t.sample(
        "omg_info",
        &[
            ("version", env!("CARGO_PKG_VERSION")),
            ("backend", facts.backend.as_str()),
        ],
        1,
    );
    updates(&mut t, rows);
    security(&mut t, facts);
    t.single(
        "node_reboot_required",
        "Node reboot is required for software updates.",
        bool_value(facts.reboot_required),
    );
    t.single(
        "omg_config_merges_pending",
        "Config files upgrades left (.pacnew, .dpkg-dist, ...) waiting for omg merge.",
        u64::from(facts.config_merges),
    );
    drift(&mut t, facts.drift.as_ref());
    workers(&mut t, facts);
    match facts.backend {
        BackendKind::Apt => apt_compatible(&mut t, facts),
        BackendKind::Alpm => pacman_compatible(&mut t, facts),
    }
    t.0
}

fn updates(t: &mut Text, rows: &[Row]) {
    t.family(
        "omg_updates_pending",
        "Pending updates by source (repository, aur, devel, runtime), held ones included.",
    );
    for source in SOURCES {
        let n = rows.iter().filter(|r| r.source == source).count();
        t.sample(
            "omg_updates_pending",
            &[("source", source_label(source))],
            n as u64,
        );
    }
    t.family(
        "omg_updates_pending_by_kind",
        "Pending updates by kind of version change.",
    );
    for kind in KINDS {
        let n = rows.iter().filter(|r| r.kind == kind).count();
        t.sample(
            "omg_updates_pending_by_kind",
            &[("kind", kind.as_str())],
            n as u64,
        );
    }
    t.family(
        "omg_updates_held",
        "Pending updates omg pin keeps back, by source.",
    );
    for source in SOURCES {
        let n = rows
            .iter()
            .filter(|r| r.source == source && r.pinned)
            .count();
        t.sample(
            "omg_updates_held",
            &[("source", source_label(source))],
            n as u64,
        );
    }
    t.family(
        "omg_update_info",
        "One series per pending update (value 1): what it is and what it fixes.",
    );
    for r in rows {
        let fixes = r
            .fixes
            .iter()
            .map(|f| f.id.as_str())
            .collect::<Vec<_>>()
            .join(",");
        t.sample(
            "omg_update_info",
            &[
                ("source", source_label(r.source)),
                ("name", &r.name),
                ("installed", r.installed.as_deref().unwrap_or("")),
                ("available", &r.available),
                ("kind", r.kind.as_str()),
                ("origin", &r.origin),
                ("held", if r.pinned { "true" } else { "false" }),
                ("fixes", &fixes),
            ],
            1,
        );
    }
}

fn security(t: &mut Text, facts: &Facts<'_>) {
    let fixing = facts
        .report
        .rows
        .iter()
        .filter(|r| !r.fixes.is_empty())
        .count();
    t.single(
        "omg_security_updates_pending",
        "Pending updates that fix a known vulnerability.",
        fixing as u64,
    );
    let Some(audit) = facts.audit else { return };
    t.family(
        "omg_vulnerable_packages",
        "Installed packages affected by known vulnerabilities, by the worst severity.",
    );
    for severity in SEVERITIES {
        let n = audit
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count();
        t.sample(
            "omg_vulnerable_packages",
            &[("severity", severity.as_str())],
            n as u64,
        );
    }
    t.family(
        "omg_last_scan_timestamp_seconds",
        "When the scan last fetched the vulnerability advisories it matched.",
    );
    t.sample(
        "omg_last_scan_timestamp_seconds",
        &[("source", &audit.source)],
        audit.fetched_at,
    );
}

fn drift(t: &mut Text, drift: Option<&LockDrift>) {
    let Some(d) = drift else { return };
    let lock = d.lock.display().to_string();
    let labels = [("lock", lock.as_str())];
    t.family(
        "omg_lock_check_failed",
        "The lock could not be read (1), so its drift is unknown.",
    );
    t.sample(
        "omg_lock_check_failed",
        &labels,
        bool_value(d.outcome.is_err()),
    );
    if let Ok(found) = &d.outcome {
        t.family(
            "omg_lock_drift",
            "Differences between the machine and the lock (omg env check).",
        );
        t.sample("omg_lock_drift", &labels, found.len() as u64);
    }
}

fn workers(t: &mut Text, facts: &Facts<'_>) {
    if let Some(at) = facts.last_refresh {
        t.single(
            "omg_last_refresh_timestamp_seconds",
            "When the package lists were last refreshed successfully.",
            at,
        );
    }
    t.single(
        "omg_refresh_failed",
        "The last refresh of the package lists failed.",
        bool_value(facts.refresh_failed),
    );
    let checked: Vec<_> = facts.report.checked.iter().collect();
    if checked.iter().any(|c| c.at.is_some()) {
        t.family(
            "omg_source_checked_timestamp_seconds",
            "When each source of updates was last asked successfully.",
        );
        for c in checked.iter().filter(|c| c.at.is_some()) {
            t.sample(
                "omg_source_checked_timestamp_seconds",
                &[("source", source_label(c.source))],
                c.at.unwrap_or(0),
            );
        }
    }
    t.family(
        "omg_source_check_failed",
        "The last attempt to ask this source of updates failed.",
    );
    for c in &checked {
        t.sample(
            "omg_source_check_failed",
            &[("source", source_label(c.source))],
            bool_value(c.error.is_some()),
        );
    }
}

/// `apt_info.py`'s series, for the repository updates.
fn apt_compatible(t: &mut Text, facts: &Facts<'_>) {
    let count = |held_only: bool| {
        let mut by: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        for r in &facts.report.rows {
            if r.source != Source::Repository || (held_only && !r.pinned) {
                continue;
            }
            let arch = facts.architectures.get(&r.name).map_or("", String::as_str);
            *by.entry((r.origin.as_str(), arch)).or_default() += 1;
        }
        by
    };
    for (name, help, held) in [
        (
            "apt_upgrades_pending",
            "Apt packages pending updates by origin.",
            false,
        ),
        (
            "apt_upgrades_held",
            "Apt packages pending updates but held back.",
            true,
        ),
    ] {
        t.family(name, help);
        let by = count(held);
        if by.is_empty() {
            t.sample(name, &[("origin", ""), ("arch", "")], 0);
        }
        for ((origin, arch), n) in by {
            t.sample(name, &[("origin", origin), ("arch", arch)], n);
        }
    }
    t.single(
        "apt_autoremove_pending",
        "Apt packages pending autoremoval.",
        u64::from(facts.orphans),
    );
    if let Some(at) = facts.last_refresh {
        t.single(
            "apt_package_cache_timestamp_seconds",
            "Apt update last run time.",
            at,
        );
    }
}

/// `pacman.sh`'s series.
fn pacman_compatible(t: &mut Text, facts: &Facts<'_>) {
    let pending = facts
        .report
        .rows
        .iter()
        .filter(|r| r.source == Source::Repository)
        .count();
    t.single(
        "pacman_updates_pending",
        "Pending updates from pacman's repositories.",
        pending as u64,
    );
    t.single(
        "pacman_updates_pending_from_cache",
        "The pending updates were counted against the system's sync databases, not a fresh private copy.",
        bool_value(!facts.from_private_lists),
    );
}

/// Where the workers write: `configured` when set (empty: nowhere),
/// else node_exporter's directory when it exists and this process is
/// root (a user's worker leaves the machine's metrics alone).
pub fn textfile_dir(configured: Option<&Path>, root: bool) -> Option<PathBuf> {
    match configured {
        Some(dir) if dir.as_os_str().is_empty() => None,
        Some(dir) => Some(dir.to_path_buf()),
        None => {
            let default = Path::new(NODE_EXPORTER_DIR);
            (root && default.is_dir()).then(|| default.to_path_buf())
        }
    }
}

/// Replaces `dir/omg.prom` atomically (node_exporter reads only `*.prom`,
/// so the hidden temporary file is never collected half written),
/// readable by everyone (node_exporter runs as its own user).
pub fn write(dir: &Path, text: &str) -> std::io::Result<PathBuf> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(FILE_NAME);
    let tmp = dir.join(format!(".{FILE_NAME}.{}", std::process::id()));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)?;
        // Whatever the umask: node_exporter must read it.
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map(|()| path)
}

#[cfg(test)]
mod tests;
