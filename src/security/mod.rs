//! Verifying what omg downloads and builds: OpenPGP signatures (`pgp`).

pub mod pgp;
