//! How each library error is told to a client: the `WireError` kind it
//! maps to (not found, verification, policy, …), so that every request
//! family converts the errors it meets the same way.

use super::protocol::{ErrorKind, WireError};

impl From<crate::aur::rpc::AurError> for WireError {
    fn from(e: crate::aur::rpc::AurError) -> Self {
        WireError::new(ErrorKind::Database, e.to_string())
    }
}

impl From<crate::aur::resolve::ResolveError> for WireError {
    fn from(e: crate::aur::resolve::ResolveError) -> Self {
        use crate::aur::resolve::ResolveError;
        let kind = match e {
            ResolveError::NotFound(_) => ErrorKind::NotFound,
            ResolveError::Missing(_) | ResolveError::Cycle(_) => ErrorKind::TransactionFailed,
        };
        WireError::new(kind, e.to_string())
    }
}

impl From<crate::index::rank::QueryError> for WireError {
    fn from(e: crate::index::rank::QueryError) -> Self {
        WireError::new(ErrorKind::InvalidRequest, e.to_string())
    }
}

impl From<crate::runtime::install::InstallError> for WireError {
    fn from(e: crate::runtime::install::InstallError) -> Self {
        use crate::runtime::install::InstallError as E;
        let kind = match e {
            E::NoMatch { .. } | E::Unavailable { .. } => ErrorKind::NotFound,
            E::Mismatch { .. }
            | E::NoKeys { .. }
            | E::BadSignature { .. }
            | E::NoChecksum { .. } => ErrorKind::Verification,
            _ => ErrorKind::Database,
        };
        WireError::new(kind, e.to_string())
    }
}

impl From<crate::security::osv::OsvError> for WireError {
    fn from(e: crate::security::osv::OsvError) -> Self {
        WireError::new(ErrorKind::Database, e.to_string())
    }
}

impl From<crate::security::scan::ScanError> for WireError {
    fn from(e: crate::security::scan::ScanError) -> Self {
        use crate::security::scan::ScanError;
        let kind = match e {
            ScanError::NoRelease => ErrorKind::InvalidRequest,
            ScanError::Fetch { .. } | ScanError::Format(_) => ErrorKind::Database,
        };
        WireError::new(kind, e.to_string())
    }
}

impl From<crate::security::policy::PolicyError> for WireError {
    fn from(e: crate::security::policy::PolicyError) -> Self {
        WireError::new(ErrorKind::PolicyDenied, e.to_string())
    }
}

impl From<crate::auth::client_files::FileError> for WireError {
    fn from(e: crate::auth::client_files::FileError) -> Self {
        WireError::new(ErrorKind::InvalidRequest, e.to_string())
    }
}

impl From<crate::history::HistoryError> for WireError {
    fn from(e: crate::history::HistoryError) -> Self {
        WireError::new(ErrorKind::Database, e.to_string())
    }
}
