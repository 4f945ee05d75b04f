//! Verifying what omg downloads and builds, and what is known about what
//! is installed: OpenPGP signatures (`pgp`) and known vulnerabilities of
//! distribution packages (`vulns`), fetched and kept by `scan`; grades,
//! policy, OSV for language packages, and Sigstore provenance.

pub mod grade;
pub mod lockfiles;
pub mod osv;
pub mod pgp;
pub mod policy;
pub mod provenance;
pub mod scan;
pub mod vulns;
