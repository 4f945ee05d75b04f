//! OpenPGP material made with sequoia for the tests: keys, signatures in
//! each form release teams publish, armored public keys.

use std::io::Write;

use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::Serialize;
use openpgp::serialize::stream::{Armorer, Message, Signer};

pub use openpgp::Cert;

/// How a signature is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// A binary detached signature (`.sig`).
    Detached,
    /// An armored detached signature (`.asc`).
    Armored,
    /// A cleartext-signed copy (`gpg --clearsign`).
    Clear,
}

/// A new signing key for `uid`.
pub fn key(uid: &str) -> Cert {
    CertBuilder::general_purpose(Some(uid))
        .generate()
        .unwrap()
        .0
}

/// `data` signed by `cert` in `form`.
pub fn sign(cert: &Cert, data: &[u8], form: Form) -> Vec<u8> {
    let policy = StandardPolicy::new();
    let keypair = cert
        .keys()
        .unencrypted_secret()
        .with_policy(&policy, None)
        .for_signing()
        .next()
        .unwrap()
        .key()
        .clone()
        .into_keypair()
        .unwrap();
    let mut out = Vec::new();
    {
        let mut message = Message::new(&mut out);
        if form == Form::Armored {
            message = Armorer::new(message)
                .kind(openpgp::armor::Kind::Signature)
                .build()
                .unwrap();
        }
        let signer = Signer::new(message, keypair).unwrap();
        let signer = match form {
            Form::Clear => signer.cleartext(),
            Form::Detached | Form::Armored => signer.detached(),
        };
        let mut signer = signer.build().unwrap();
        signer.write_all(data).unwrap();
        signer.finalize().unwrap();
    }
    out
}

/// `cert`'s public key, armored.
pub fn public(cert: &Cert) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = openpgp::armor::Writer::new(&mut out, openpgp::armor::Kind::PublicKey).unwrap();
    cert.serialize(&mut w).unwrap();
    w.finalize().unwrap();
    out
}

/// A keys directory holding `cert`'s public key, as packaging ships a
/// release team's keys.
pub fn trusting(cert: &Cert) -> tempfile::TempDir {
    let keys = tempfile::tempdir().unwrap();
    std::fs::write(keys.path().join("release.asc"), public(cert)).unwrap();
    keys
}
