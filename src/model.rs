//! The package data every layer shares: what a search hit, a package's
//! details, an installed package and a status summary are. These types travel
//! over the wire (bincode) and are printed by `--json` (serde_json), so their
//! field names and meanings are the stable JSON schema documented in
//! `docs/json.md`. No `skip_serializing_if` or untagged enums here: bincode
//! needs every field, every time.

use serde::{Deserialize, Serialize};

/// Which package database answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Apt,
    Alpm,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Apt => "apt",
            BackendKind::Alpm => "alpm",
        }
    }
}

/// Why a package is installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstallReason {
    /// Asked for by the user (`apt-mark showmanual`, pacman's "Explicitly installed").
    Explicit,
    /// Pulled in to satisfy another package.
    Dependency,
}

/// Which tier of the ranking a search hit came from, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    /// The name is the query.
    Exact,
    /// The name starts with the query.
    Prefix,
    /// The name matches the query fuzzily (every character, in order).
    Fuzzy,
    /// A name the package provides contains the query.
    Provides,
    /// Every word of the query appears in the description.
    Description,
}

/// One row of `omg search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub name: String,
    /// The version a new install would get (apt's candidate), or the
    /// installed version when no repository offers one.
    pub version: String,
    /// Where `version` comes from, e.g. `bookworm/main`; `local` when only
    /// the installed copy knows it.
    pub repository: String,
    pub architecture: String,
    /// The installed version, if any.
    pub installed_version: Option<String>,
    pub description: String,
    pub matched: MatchKind,
    /// For packages from the AUR: what the AUR says of them.
    #[serde(default)]
    pub aur: Option<AurMeta>,
}

/// What the AUR says of a package beyond what repositories say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AurMeta {
    pub package_base: String,
    pub votes: u64,
    pub popularity: f64,
    /// When it was flagged out of date (Unix time).
    pub out_of_date: Option<i64>,
    /// `None`: nobody maintains it (orphaned).
    pub maintainer: Option<String>,
    pub first_submitted: i64,
    pub last_modified: i64,
    pub keywords: Vec<String>,
}

/// The answer to a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub query: String,
    /// How many packages matched before `limit` was applied.
    pub total: u32,
    pub hits: Vec<SearchHit>,
    /// Things the user should know about these results (an AUR that did
    /// not answer in time, …).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// The bytes one entry of a daemon cache stands for: a larger answer
/// weighs one entry per this many bytes.
pub const CACHE_ENTRY_BYTES: usize = 16 << 10;

/// What an answer of about `bytes` weighs in a daemon cache.
pub fn cache_weight(bytes: usize) -> u32 {
    u32::try_from(1 + bytes / CACHE_ENTRY_BYTES).unwrap_or(u32::MAX)
}

impl SearchResults {
    /// About how many bytes these results hold (for caches that weigh
    /// what they keep).
    pub fn approx_bytes(&self) -> usize {
        let hit = |h: &SearchHit| {
            128 + h.name.len()
                + h.version.len()
                + h.repository.len()
                + h.architecture.len()
                + h.description.len()
                + h.installed_version.as_ref().map_or(0, String::len)
                + h.aur.as_ref().map_or(0, |a| {
                    64 + a.package_base.len() + a.keywords.iter().map(String::len).sum::<usize>()
                })
        };
        64 + self.query.len()
            + self.hits.iter().map(hit).sum::<usize>()
            + self.notes.iter().map(String::len).sum::<usize>()
    }
}

/// Everything `omg info` shows about one package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageInfo {
    pub name: String,
    pub architecture: String,
    pub installed_version: Option<String>,
    /// The version a new install or upgrade would get.
    pub candidate_version: Option<String>,
    /// Where the candidate comes from (`bookworm/main`), or `local`.
    pub repository: String,
    /// The version the fields below describe: the candidate when there is
    /// one, otherwise the installed version.
    pub version: String,
    pub section: Option<String>,
    pub priority: Option<String>,
    /// Size of the package file to download, in bytes.
    pub download_size: u64,
    /// Size on disk once installed, in bytes.
    pub installed_size: u64,
    pub maintainer: Option<String>,
    pub homepage: Option<String>,
    pub source: Option<String>,
    pub summary: String,
    /// The long description, as plain text (Debian's ` .` paragraph lines
    /// become empty lines).
    pub description: String,
    pub depends: Vec<String>,
    pub pre_depends: Vec<String>,
    pub recommends: Vec<String>,
    pub suggests: Vec<String>,
    pub provides: Vec<String>,
    pub conflicts: Vec<String>,
    pub breaks: Vec<String>,
    pub replaces: Vec<String>,
    /// `None` when the package is not installed.
    pub install_reason: Option<InstallReason>,
    pub essential: bool,
    pub upgradable: bool,
    /// Every version the database knows, newest first.
    pub available: Vec<VersionOrigin>,
    /// Package groups (Arch).
    pub groups: Vec<String>,
    pub licenses: Vec<String>,
    /// Optional dependencies with their reason, and whether each is installed (Arch).
    pub optional_depends: Vec<OptionalDepend>,
    /// Installed packages that depend on this one (Arch's "Required By").
    pub required_by: Vec<String>,
    /// Who built the package (Arch).
    pub packager: Option<String>,
    /// Unix times.
    pub build_date: Option<u64>,
    pub install_date: Option<u64>,
    /// How the installed package was validated (`sha256`, `signature`…; Arch).
    pub validation: Vec<String>,
    /// For packages from the AUR: votes, popularity, flags, base.
    #[serde(default)]
    pub aur: Option<AurMeta>,
    /// Needed to build it (AUR packages).
    #[serde(default)]
    pub make_depends: Vec<String>,
    /// Needed to run its tests while building (AUR packages).
    #[serde(default)]
    pub check_depends: Vec<String>,
    /// Whether the version shown comes signed by a key the package
    /// manager trusts (apt: an authenticated repository; pacman: a
    /// repository whose SigLevel requires package signatures, or a
    /// signed package); `None` when it cannot be told (installed only).
    #[serde(default)]
    pub signed: Option<bool>,
    /// The security grade (`omg info`), and why.
    #[serde(default)]
    pub grade: Option<crate::security::grade::Grade>,
    #[serde(default)]
    pub grade_reason: Option<String>,
}

/// An optional dependency (pacman's `optdepends`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionalDepend {
    /// `name: why`, as the package states it.
    pub depend: String,
    pub installed: bool,
}

/// One version of a package and where it can be had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionOrigin {
    pub version: String,
    pub repositories: Vec<String>,
}

/// One row of `omg list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledPackage {
    pub name: String,
    pub architecture: String,
    pub version: String,
    /// The newer version a repository offers, if the package is upgradable.
    pub candidate_version: Option<String>,
    /// Where the candidate comes from, when there is one.
    pub repository: Option<String>,
    pub reason: InstallReason,
    pub description: String,
}

/// Which installed packages `omg list` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListFilter {
    All,
    Explicit,
    /// Installed as dependencies (pacman -Qd).
    Dependencies,
    Upgradable,
    Orphans,
}

/// Where the package index came from in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndexSource {
    /// Loaded from the snapshot in the data directory.
    Snapshot,
    /// Built from the package database (the snapshot was missing, stale or unreadable).
    Built,
}

/// `omg status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    pub backend: BackendKind,
    /// The backend library and its version, e.g. `libapt-pkg 2.6.1`.
    pub backend_version: String,
    /// Packages the repositories offer (real packages, not virtual names).
    pub available: u32,
    pub installed: u32,
    pub explicit: u32,
    pub upgradable: u32,
    pub orphans: u32,
    /// Unix time of the last successful database refresh (`apt update`), if known.
    pub last_refresh: Option<u64>,
    pub index: IndexReport,
    /// The last `omgd work refresh`, if one ran.
    pub update_check: Option<UpdateCheck>,
    /// The last vulnerability scan, if one ran.
    #[serde(default)]
    pub vulnerabilities: Option<VulnerabilityCheck>,
    /// An update needs a reboot to take effect (the status file's flag,
    /// or Debian's `/run/reboot-required`).
    #[serde(default)]
    pub reboot_required: bool,
    /// Config files upgrades left that wait for `omg merge`.
    #[serde(default)]
    pub config_merges: u32,
}

/// What the last vulnerability audit found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnerabilityCheck {
    /// Installed packages affected.
    pub affected: u32,
    /// Where the advisories came from, and when they were fetched.
    pub source: String,
    pub fetched_at: u64,
}

/// What the last private refresh (`omgd work refresh`) found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateCheck {
    /// Unix time of the attempt.
    pub checked_at: u64,
    /// Updates the repositories offer, as of the last successful check.
    pub updates: u32,
    /// Unix time of the last successful check.
    pub last_success: Option<u64>,
    /// Why the last attempt failed, if it did.
    pub error: Option<String>,
}

/// The state of the package index behind the answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexReport {
    pub source: IndexSource,
    pub packages: u32,
    /// Unix time the index was built from the package database.
    pub built_at: u64,
    /// The fingerprint of the package database the index was built from.
    pub fingerprint: String,
    /// The snapshot file, when one is in use.
    pub snapshot_path: Option<String>,
    /// Why the snapshot could not be used, when it could not.
    pub snapshot_problem: Option<String>,
}

/// `omg daemon status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaemonStatus {
    pub pid: u32,
    pub version: String,
    /// `socket-activated`, `socket` (bound by omgd itself) or `stdio`.
    pub mode: String,
    pub socket: Option<String>,
    pub uptime_secs: u64,
    /// Packages in the index held in memory (0 before the first query).
    pub packages: u32,
    pub requests: u64,
    pub open_connections: u32,
    pub cache_entries: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    /// Resident memory, in bytes.
    pub memory_bytes: u64,
    /// Seconds an idle socket-activated daemon waits before exiting (0: never).
    pub idle_timeout_secs: u64,
}

/// An installed AUR package the AUR has a newer version of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AurUpdate {
    pub name: String,
    pub installed_version: String,
    pub aur_version: String,
}

/// One installed package in the dependency graph (`omg why`, `omg size`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphNode {
    pub name: String,
    pub version: String,
    /// Installed on request rather than as a dependency.
    pub explicit: bool,
    /// Installed size in bytes.
    pub size: u64,
    /// The installed packages that satisfy its dependencies.
    pub depends: Vec<String>,
    /// The installed packages that satisfy its weaker relations (apt's
    /// Recommends, pacman's optional dependencies): they keep packages
    /// installed too, where the package manager says so.
    pub recommends: Vec<String>,
    /// Unix time of the install, where the database records it.
    pub install_date: Option<u64>,
    /// Where the installed version comes from: a repository (Arch), an
    /// archive and component (`bookworm/main`), or `local` when none has
    /// it (a package file, an AUR build).
    pub repository: String,
}

/// An installed package a repository has a newer version of (what a
/// refresh of the private lists found).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingUpdate {
    pub name: String,
    pub installed: String,
    pub available: String,
    pub repository: String,
}

/// A version a runtime's upstream offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailableVersion {
    pub version: String,
    /// The LTS codename (Node.js), if any.
    pub lts: Option<String>,
    pub date: String,
}

/// Who owns one path (`omg owns`): the installed packages whose file
/// lists have it (a directory may have several).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ownership {
    pub path: String,
    pub owners: Vec<Owner>,
}

/// An installed package owning a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub name: String,
    pub version: String,
}

/// The files of an installed package (`omg files`), as its package
/// manager lists them (absolute paths; Arch marks directories with a
/// trailing `/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageFiles {
    pub name: String,
    pub version: String,
    pub files: Vec<String>,
}

/// What ships one asked-for command or path (`omg provides`, and the
/// shell's command-not-found).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provided {
    pub asked: String,
    pub providers: Vec<ProvidedBy>,
}

/// A package shipping it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvidedBy {
    pub name: String,
    /// The file that matched.
    pub path: String,
    /// The version a new install would get.
    pub version: String,
    /// Where it comes from (`bookworm/main`, `extra`).
    pub repository: String,
    pub installed: bool,
}

/// A version of a package that can be installed, and where it is (`omg
/// downgrade`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageVersion {
    pub version: String,
    /// `repository NAME`, `cache`, `archive` (the Arch Linux Archive),
    /// Debian's `repository ORIGIN/SUITE`.
    pub sources: Vec<String>,
    pub installed: bool,
}
