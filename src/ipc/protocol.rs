//! The wire protocol's messages. A connection starts with the client's
//! `Hello` and the daemon's `Welcome`; then each `Request` carries an id that
//! its `Response` repeats, so requests may be pipelined.

use serde::{Deserialize, Serialize};

use crate::model::{
    DaemonStatus, InstalledPackage, ListFilter, PackageInfo, SearchResults, StatusReport,
};
use crate::transaction::{Answer, TransactionReport, TransactionRequest, TxEvent};

/// Bumped whenever a message changes shape. Client and daemon must agree.
pub const PROTOCOL_VERSION: u32 = 14;

/// Largest frame either side accepts, in bytes (16 MiB).
pub const MAX_FRAME: usize = 16 << 20;

/// Longest search query accepted, in bytes.
pub const MAX_QUERY_LEN: usize = 256;

/// Frames a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClientFrame {
    Hello(Hello),
    Request(Request),
    /// The answer to a question a transaction asked (`TxEvent::Question`).
    Answer {
        /// The transaction's request id.
        request: u32,
        /// The question's id.
        question: u32,
        answer: Answer,
    },
}

/// Frames the daemon sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ServerFrame {
    Welcome(Welcome),
    Response(Response),
    /// Progress of a transaction, before its `Response`.
    Event {
        request: u32,
        event: TxEvent,
    },
    /// A fatal protocol problem (bad frame, version mismatch); the daemon
    /// closes the connection after sending it.
    Fatal(WireError),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    /// Free text naming the client, e.g. `omg 0.1.0`.
    pub client: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    pub protocol: u32,
    /// The daemon's version, e.g. `omgd 0.1.0`.
    pub daemon: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: u32,
    pub body: RequestBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RequestBody {
    Search(SearchRequest),
    /// Details of one package by exact name.
    Info {
        name: String,
    },
    /// Installed packages, filtered.
    List {
        filter: ListFilter,
    },
    Status,
    /// The daemon's own state (`omg daemon status`).
    DaemonStatus,
    /// Forget cached answers and re-check the package database (sent by
    /// `omgd work refresh` and package-manager hooks).
    Reload,
    /// Finish in-flight requests and exit (`omg daemon stop`).
    Shutdown,
    /// Install, remove, upgrade or refresh: streams `Event` frames, may
    /// ask questions, and ends with a `Transaction` response. Needs a
    /// daemon running as root (unless it is a dry run).
    Transaction(TransactionRequest),
    /// Pin a package or clean the package cache: streams `Event` frames
    /// and ends with a `Transaction` response, as a transaction does.
    Maintain(crate::transaction::MaintenanceRequest),
    /// Plan installing `targets` across the repositories and the AUR
    /// (Arch): what to build, in which order, and what it needs.
    AurPlan {
        targets: Vec<String>,
    },
    /// Installed AUR packages the AUR has newer versions of.
    AurUpdates,
    /// The versions a runtime's upstream offers, newest first.
    RuntimeAvailable {
        runtime: String,
    },
    /// Install a runtime version into this user's versions (streams
    /// `Event` frames: steps and the download).
    RuntimeInstall(RuntimeInstallRequest),
    /// The installed packages affected by known vulnerabilities; with
    /// `refresh`, fetch the advisories first.
    Audit {
        refresh: bool,
    },
    /// The installed packages that break policy.toml.
    PolicyCheck,
    /// Every pending update (repositories, AUR, VCS packages, runtimes)
    /// and what each fixes; with `refresh`, ask the upstreams first.
    Outdated {
        refresh: bool,
    },
    /// Every installed package with the installed packages it depends on
    /// (`omg why`, `omg size`).
    Graph,
    /// Every version of a package that can be installed, and where it is
    /// (`omg downgrade`); with `archive`, the Arch Linux Archive's too
    /// (asked of a user's own daemon only: it reaches the network).
    Versions {
        name: String,
        archive: bool,
    },
    /// The installed packages owning each path (absolute paths, matched as
    /// strings against the package manager's file lists: nothing is read
    /// from the paths themselves).
    Owns {
        paths: Vec<String>,
    },
    /// The files of an installed package.
    Files {
        name: String,
    },
    /// The repository packages shipping each command name or path, from
    /// the file index the refresh worker builds; for a command no
    /// repository ships, the AUR packages providing it: asked of the AUR
    /// with `ask_aur`, else only as this daemon last heard (the shell's
    /// command-not-found sends no typo to a server).
    Provides {
        names: Vec<String>,
        ask_aur: bool,
    },
    /// Check a Sigstore bundle for `file`, requiring a certificate for
    /// `identity` from `issuer` (absolute paths).
    VerifyProvenance {
        file: String,
        bundle: String,
        identity: String,
        issuer: String,
        trusted_root: Option<String>,
    },
    /// What OSV knows about these package versions.
    Osv {
        queries: Vec<crate::security::osv::Query>,
        refresh: bool,
    },
    /// Check the detached OpenPGP signature `signature` of `file` against
    /// the keys in `keyring` (a file or a directory; absolute paths).
    VerifyFile {
        file: String,
        signature: String,
        keyring: String,
    },
    /// Check the detached signatures of sources in the build directory
    /// `dir` — each (data file, signature file) — against the user's
    /// trusted keys, accepting only keys `validpgpkeys` lists.
    VerifySignatures {
        dir: String,
        pairs: Vec<(String, String)>,
        validpgpkeys: Vec<String>,
    },
    /// The Prometheus metrics (`omg status --prometheus`), in the text
    /// exposition format.
    Metrics,
    /// The units (and processes) that still run files an upgrade
    /// replaced or deleted.
    Restarts,
    /// What is new (`omg news`): on Arch the news published since the
    /// last upgrade, on Debian the `NEWS.Debian` entries the last upgrade
    /// installed; with `all`, everything kept.
    News {
        all: bool,
    },
    /// Restart these units (each must be among `Restarts`' answer; a
    /// sensitive one — init, a login session — only with `sensitive`).
    Restart {
        units: Vec<String>,
        sensitive: bool,
        interactive: bool,
    },
    /// The repository and installed package names that start with
    /// `prefix`, in name order (`omg __complete`, at each Tab): at most
    /// `rank::COMPLETIONS`, and when there are more, the last name among
    /// them is the range's last, so a shell's common prefix is still right.
    Complete {
        prefix: String,
    },
}

impl RequestBody {
    /// Whether this request streams `Event` frames (and may ask questions)
    /// before its answer, and if so whether its questions take their
    /// default answers: the one place that decides which requests stream.
    pub fn streaming(&self) -> Option<bool> {
        match self {
            RequestBody::Transaction(tx) => Some(tx.options.noconfirm),
            RequestBody::Maintain(m) => Some(m.noconfirm),
            RequestBody::RuntimeInstall(_) => Some(true),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeInstallRequest {
    pub runtime: String,
    /// A version, a partial version or an alias (`lts`, `lts/iron`, …).
    pub request: String,
    /// Install without checksums and signatures.
    pub insecure: bool,
    /// Make it the global `current` version afterwards (`omg use`).
    pub make_current: bool,
    /// Rust: components and targets to install beside the profile's
    /// (from `rust-toolchain.toml`).
    pub components: Vec<String>,
    pub targets: Vec<String>,
    /// The history group the change belongs to (`omg upgrade --all`).
    #[serde(default)]
    pub group: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SearchRequest {
    pub query: String,
    /// 0 means no limit.
    pub limit: u32,
    pub installed_only: bool,
    /// Where to look.
    pub sources: Sources,
}

impl SearchRequest {
    /// Whether the search asks the AUR too (where there is one): the
    /// repositories are not all it wants, and not only installed packages.
    pub fn asks_aur(&self) -> bool {
        self.sources != Sources::Repositories && !self.installed_only
    }
}

/// Where a search looks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sources {
    /// The repositories, and the AUR where there is one (Arch).
    #[default]
    All,
    /// The repositories (and installed packages) only.
    Repositories,
    /// The AUR only.
    Aur,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub id: u32,
    pub result: Result<ResponseBody, WireError>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ResponseBody {
    Search(SearchResults),
    Info(Box<PackageInfo>),
    List(Vec<InstalledPackage>),
    Status(StatusReport),
    Daemon(DaemonStatus),
    Transaction(TransactionReport),
    AurPlan(crate::aur::resolve::Plan),
    AurUpdates(Vec<crate::model::AurUpdate>),
    RuntimeAvailable(Vec<crate::model::AvailableVersion>),
    RuntimeInstalled {
        runtime: String,
        version: String,
        path: String,
    },
    /// The request was carried out and has nothing to report.
    Done,
    /// A good signature, by this key.
    Verified {
        signer: String,
    },
    Audit(crate::security::vulns::AuditReport),
    PolicyCheck(Vec<crate::security::policy::Violation>),
    Outdated(crate::outdated::Report),
    Graph(Vec<crate::model::GraphNode>),
    Versions(Vec<crate::model::PackageVersion>),
    Owns(Vec<crate::model::Ownership>),
    Files(crate::model::PackageFiles),
    Provides(Vec<crate::model::Provided>),
    Osv(crate::security::osv::OsvReport),
    Metrics(String),
    Restarts(Vec<crate::restart::Restart>),
    News(crate::news::NewsList),
    /// Package names (`Complete`).
    Names(Vec<String>),
}

/// What kind of failure a response reports; the client maps it to an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// No such package. `WireError::suggestions` holds close names.
    NotFound,
    /// The request itself is unacceptable (empty query, bad characters).
    InvalidRequest,
    /// The package database could not be read.
    Database,
    /// Something is locked by another process.
    Locked,
    /// The peer speaks another protocol version.
    ProtocolMismatch,
    /// A frame that could not be decoded or was too large.
    BadFrame,
    /// `omgd-lite` cannot answer without the package database: ask a full
    /// omgd instead.
    NeedsBackend,
    /// The daemon may not do this: it does not run as root.
    NeedsRoot,
    /// The user declined at a question; nothing was changed.
    Aborted,
    /// The transaction could not be prepared or committed (dependencies,
    /// conflicts, invalid packages, signatures).
    TransactionFailed,
    /// The backend cannot do this (yet).
    Unsupported,
    /// A signature or checksum did not check out.
    Verification,
    /// polkit (or the instance's rules) does not allow this caller to.
    NotAuthorized,
    /// policy.toml forbids it.
    PolicyDenied,
    /// Anything else.
    Internal,
    /// A rollback of a history group that has no system transaction (its
    /// changes were all runtimes): nothing for omgd to do.
    EmptyGroup,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    pub kind: ErrorKind,
    pub message: String,
    /// "Did you mean" candidates, for `NotFound`.
    pub suggestions: Vec<String>,
}

impl WireError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        WireError {
            kind,
            message: message.into(),
            suggestions: Vec::new(),
        }
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WireError {}
