//! Detached OpenPGP signatures, checked with sequoia against certificates
//! the user trusts (files in a directory), and only accepted when made by a
//! key the caller names (a PKGBUILD's `validpgpkeys`).

use std::path::Path;

use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DetachedVerifierBuilder, MessageLayer, MessageStructure, VerificationHelper, VerifierBuilder,
};
use openpgp::policy::StandardPolicy;
use openpgp::{Fingerprint, KeyHandle};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PgpError {
    #[error("cannot read the trusted keys in {dir}: {message}")]
    Keyring { dir: String, message: String },
    #[error("{0:?} is not an OpenPGP fingerprint")]
    BadFingerprint(String),
    #[error("{file}: not a valid signature by a trusted key listed in validpgpkeys ({reason})")]
    Rejected { file: String, reason: String },
}

/// Whether `path` names a key file a keyring directory is read from
/// (`.asc`, `.gpg`, `.pgp`, `.key`).
pub fn is_key_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| ["asc", "gpg", "pgp", "key"].iter().any(|x| e == *x))
}

/// The names of the key files in the directory `dir` (none when it cannot
/// be read), or `dir`'s own name when it is a keyring file, as
/// `load_keyring` reads either.
pub fn key_files(dir: &Path) -> Vec<String> {
    if dir.is_file() {
        return dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .into_iter()
            .collect();
    }
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| is_key_file(&e.path()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect()
}

/// The certificates in `dir` (`.asc`, `.gpg`, `.pgp` and `.key` files, one
/// or more certificates each), or in `dir` itself when it is a keyring
/// file. A missing directory is an empty keyring.
pub fn load_keyring(dir: &Path) -> Result<Vec<Cert>, PgpError> {
    if dir.is_file() {
        let bad = |e: anyhow::Error| PgpError::Keyring {
            dir: dir.display().to_string(),
            message: e.to_string(),
        };
        return CertParser::from_file(dir)
            .map_err(bad)?
            .map(|c| c.map_err(bad))
            .collect();
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(PgpError::Keyring {
                dir: dir.display().to_string(),
                message: e.to_string(),
            });
        }
    };
    let mut certs = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if !is_key_file(&path) {
            continue;
        }
        let parser = CertParser::from_file(&path).map_err(|e| PgpError::Keyring {
            dir: dir.display().to_string(),
            message: format!("{}: {e}", path.display()),
        })?;
        for cert in parser {
            certs.push(cert.map_err(|e| PgpError::Keyring {
                dir: dir.display().to_string(),
                message: format!("{}: {e}", path.display()),
            })?);
        }
    }
    Ok(certs)
}

/// Reads a fingerprint as PKGBUILDs write them (hex, any case, spaces
/// allowed).
pub fn parse_fingerprint(text: &str) -> Result<Fingerprint, PgpError> {
    let hex: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if hex.len() < 40 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(PgpError::BadFingerprint(text.into()));
    }
    hex.parse::<Fingerprint>()
        .map_err(|_| PgpError::BadFingerprint(text.into()))
}

struct Helper<'a> {
    certs: &'a [Cert],
    allowed: &'a [Fingerprint],
    signer: Option<Fingerprint>,
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(self.certs.to_vec())
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        let mut reasons = Vec::new();
        for layer in structure {
            let MessageLayer::SignatureGroup { results } = layer else {
                continue;
            };
            for result in results {
                match result {
                    Ok(good) => {
                        let primary = good.ka.cert().fingerprint();
                        let key = good.ka.key().fingerprint();
                        if self.allowed.iter().any(|a| *a == primary || *a == key) {
                            self.signer = Some(primary);
                            return Ok(());
                        }
                        reasons.push(format!(
                            "signed by {primary}, which validpgpkeys does not list"
                        ));
                    }
                    Err(e) => reasons.push(e.to_string()),
                }
            }
        }
        if reasons.is_empty() {
            reasons.push("no signature".into());
        }
        Err(openpgp::Error::InvalidArgument(reasons.join("; ")).into())
    }
}

/// Checks that `signature` is a valid detached signature of `data` by one
/// of `certs` whose fingerprint is in `allowed`; returns the signer.
pub fn verify_detached(
    file: &str,
    data: &[u8],
    signature: &[u8],
    certs: &[Cert],
    allowed: &[Fingerprint],
) -> Result<Fingerprint, PgpError> {
    let rejected = |reason: String| PgpError::Rejected {
        file: file.to_string(),
        reason,
    };
    let policy = StandardPolicy::new();
    let helper = Helper {
        certs,
        allowed,
        signer: None,
    };
    let mut verifier = DetachedVerifierBuilder::from_bytes(signature)
        .map_err(|e| rejected(format!("unreadable signature: {e}")))?
        .with_policy(&policy, None, helper)
        .map_err(|e| rejected(e.to_string()))?;
    verifier
        .verify_bytes(data)
        .map_err(|e| rejected(e.to_string()))?;
    verifier
        .into_helper()
        .signer
        .ok_or_else(|| rejected("no signature".into()))
}

/// Checks the signed sources of a build: each (data, signature) file pair
/// in `dir`, against the certificates in `keys_dir`, accepting only the
/// keys `validpgpkeys` lists. The message says what failed.
pub fn verify_sources(
    dir: &Path,
    pairs: &[(String, String)],
    validpgpkeys: &[String],
    keys_dir: &Path,
) -> Result<(), String> {
    let allowed = validpgpkeys
        .iter()
        .map(|k| parse_fingerprint(k))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if allowed.is_empty() {
        return Err(
            "the sources are signed but the PKGBUILD lists no validpgpkeys: whose signature should count?"
                .into(),
        );
    }
    let certs = load_keyring(keys_dir).map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err(format!(
            "the sources are signed, and no trusted key is in {} (add the keys you trust there)",
            keys_dir.display()
        ));
    }
    let read = |name: &str| {
        if name.is_empty() || name.contains('/') || name == ".." {
            return Err(format!("{name:?} is not a file name"));
        }
        std::fs::read(dir.join(name))
            .map_err(|e| format!("cannot read {}: {e}", dir.join(name).display()))
    };
    for (data, signature) in pairs {
        let signer = verify_detached(data, &read(data)?, &read(signature)?, &certs, &allowed)
            .map_err(|e| e.to_string())?;
        log::debug!("{data}: good signature by {signer}");
    }
    Ok(())
}

/// Checks that `signature` is a valid signature of `data` by any key in
/// `keys_dir` (a release team's keyring): a detached signature (binary
/// or armored), or a cleartext-signed copy of `data` (`gpg --clearsign`,
/// as `SHASUMS256.txt.asc` files are), whose text must be `data`.
pub fn verify_with_keyring(data: &[u8], signature: &[u8], keys_dir: &Path) -> Result<(), String> {
    let certs = load_keyring(keys_dir).map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err(format!("no keys in {}", keys_dir.display()));
    }
    let allowed: Vec<Fingerprint> = certs.iter().map(|c| c.fingerprint()).collect();
    if signature.starts_with(b"-----BEGIN PGP SIGNED MESSAGE-----") {
        let signed = verify_cleartext(signature, &certs, &allowed).map_err(|e| e.to_string())?;
        // The cleartext form drops trailing whitespace on each line.
        let lines = |b: &[u8]| -> Vec<String> {
            String::from_utf8_lossy(b)
                .lines()
                .map(|l| l.trim_end().to_string())
                .filter(|l| !l.is_empty())
                .collect()
        };
        return if lines(&signed) == lines(data) {
            Ok(())
        } else {
            Err("the signed text is not the file that was published beside it".into())
        };
    }
    verify_detached("the signed file", data, signature, &certs, &allowed)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// `omg verify`: checks the detached signature `signature` of `file`
/// against the keys in `keyring` (a keyring file or a directory of keys);
/// returns who signed (fingerprint and first user ID).
pub fn verify_file(file: &Path, signature: &Path, keyring: &Path) -> Result<String, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let certs = load_keyring(keyring).map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err(format!(
            "no keys in {}: nothing to check the signature against",
            keyring.display()
        ));
    }
    let allowed: Vec<Fingerprint> = certs.iter().map(|c| c.fingerprint()).collect();
    let name = file.display().to_string();
    let signer = verify_detached(&name, &read(file)?, &read(signature)?, &certs, &allowed)
        .map_err(|e| e.to_string())?;
    let uid = certs
        .iter()
        .find(|c| c.fingerprint() == signer || c.keys().any(|k| k.key().fingerprint() == signer))
        .and_then(|c| c.userids().next().map(|u| u.userid().to_string()));
    Ok(match uid {
        Some(uid) => format!("{signer} ({uid})"),
        None => signer.to_string(),
    })
}

/// Verifies a cleartext-signed message by one of `certs` in `allowed`;
/// returns the signed text.
fn verify_cleartext(
    message: &[u8],
    certs: &[Cert],
    allowed: &[Fingerprint],
) -> Result<Vec<u8>, PgpError> {
    use std::io::Read;
    let rejected = |reason: String| PgpError::Rejected {
        file: "the signed message".into(),
        reason,
    };
    let policy = StandardPolicy::new();
    let helper = Helper {
        certs,
        allowed,
        signer: None,
    };
    let mut verifier = VerifierBuilder::from_bytes(message)
        .map_err(|e| rejected(format!("unreadable signed message: {e}")))?
        .with_policy(&policy, None, helper)
        .map_err(|e| rejected(e.to_string()))?;
    let mut text = Vec::new();
    verifier
        .read_to_end(&mut text)
        .map_err(|e| rejected(e.to_string()))?;
    if !verifier.message_processed() {
        return Err(rejected("the message is incomplete".into()));
    }
    verifier
        .into_helper()
        .signer
        .ok_or_else(|| rejected("no signature".into()))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openpgp::serialize::stream::{Message, Signer};

    fn key(uid: &str) -> Cert {
        CertBuilder::general_purpose(Some(uid))
            .generate()
            .unwrap()
            .0
    }

    fn sign(cert: &Cert, data: &[u8]) -> Vec<u8> {
        signed(cert, data, false)
    }

    /// A detached signature, or with `clear` a cleartext-signed message.
    fn signed(cert: &Cert, data: &[u8], clear: bool) -> Vec<u8> {
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
            let message = Message::new(&mut out);
            let signer = Signer::new(message, keypair).unwrap();
            let signer = if clear {
                signer.cleartext()
            } else {
                signer.detached()
            };
            let mut signer = signer.build().unwrap();
            std::io::Write::write_all(&mut signer, data).unwrap();
            signer.finalize().unwrap();
        }
        out
    }

    #[test]
    fn only_valid_signatures_by_listed_trusted_keys_pass() {
        let alice = key("alice <alice@example.org>");
        let mallory = key("mallory <mallory@example.org>");
        let data = b"source tarball";
        let sig = sign(&alice, data);
        let trusted = [alice.clone()];
        let listed = [alice.fingerprint()];
        assert_eq!(
            verify_detached("src.tar", data, &sig, &trusted, &listed),
            Ok(alice.fingerprint())
        );
        // Other bytes.
        assert!(verify_detached("src.tar", b"tampered", &sig, &trusted, &listed).is_err());
        // A good signature by a key validpgpkeys does not list.
        let err =
            verify_detached("src.tar", data, &sig, &trusted, &[mallory.fingerprint()]).unwrap_err();
        assert!(err.to_string().contains("does not list"), "{err}");
        // Listed, but the user does not trust (have) the key.
        assert!(
            verify_detached(
                "src.tar",
                data,
                &sig,
                std::slice::from_ref(&mallory),
                &listed
            )
            .is_err()
        );
        // Garbage.
        assert!(verify_detached("src.tar", data, b"garbage", &trusted, &listed).is_err());
    }

    #[test]
    fn release_keyrings_accept_detached_and_cleartext_signatures_of_the_same_text() {
        let dir = tempfile::tempdir().unwrap();
        let release = key("release <release@example.org>");
        let mut armored = Vec::new();
        {
            use openpgp::serialize::Serialize;
            let mut w =
                openpgp::armor::Writer::new(&mut armored, openpgp::armor::Kind::PublicKey).unwrap();
            release.serialize(&mut w).unwrap();
            w.finalize().unwrap();
        }
        std::fs::write(dir.path().join("release.asc"), armored).unwrap();
        let sums = format!("{}  bun-linux-x64.zip\n", "a".repeat(64));
        let clear = signed(&release, sums.as_bytes(), true);
        assert!(clear.starts_with(b"-----BEGIN PGP SIGNED MESSAGE-----"));
        assert_eq!(
            verify_with_keyring(sums.as_bytes(), &clear, dir.path()),
            Ok(())
        );
        let detached = sign(&release, sums.as_bytes());
        assert_eq!(
            verify_with_keyring(sums.as_bytes(), &detached, dir.path()),
            Ok(())
        );
        // A signed text that is not the published list.
        let other = format!("{}  bun-linux-x64.zip\n", "b".repeat(64));
        let err = verify_with_keyring(other.as_bytes(), &clear, dir.path()).unwrap_err();
        assert!(err.contains("not the file"), "{err}");
        // The signed text edited after signing.
        let text = String::from_utf8(clear.clone()).unwrap();
        let forged = text.replace(&"a".repeat(64), &"b".repeat(64));
        assert!(verify_with_keyring(other.as_bytes(), forged.as_bytes(), dir.path()).is_err());
        // Signed by someone else.
        let mallory = key("mallory <mallory@example.org>");
        let theirs = signed(&mallory, sums.as_bytes(), true);
        assert!(verify_with_keyring(sums.as_bytes(), &theirs, dir.path()).is_err());
    }

    #[test]
    fn key_files_are_the_keys_of_a_directory_or_a_keyring_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(key_files(dir.path()).is_empty());
        std::fs::write(dir.path().join("a.asc"), "k").unwrap();
        std::fs::write(dir.path().join("README.md"), "not a key").unwrap();
        assert_eq!(key_files(dir.path()), ["a.asc"]);
        assert_eq!(key_files(&dir.path().join("a.asc")), ["a.asc"]);
        assert!(key_files(&dir.path().join("missing")).is_empty());
    }

    #[test]
    fn keyrings_and_fingerprints_are_read() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_keyring(&dir.path().join("absent")).unwrap().is_empty());
        let alice = key("alice <alice@example.org>");
        let mut armored = Vec::new();
        {
            use openpgp::serialize::Serialize;
            let mut w =
                openpgp::armor::Writer::new(&mut armored, openpgp::armor::Kind::PublicKey).unwrap();
            alice.serialize(&mut w).unwrap();
            w.finalize().unwrap();
        }
        std::fs::write(dir.path().join("alice.asc"), &armored).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let ring = load_keyring(dir.path()).unwrap();
        assert_eq!(ring.len(), 1);
        assert_eq!(ring[0].fingerprint(), alice.fingerprint());
        std::fs::write(dir.path().join("broken.asc"), "not a key").unwrap();
        assert!(load_keyring(dir.path()).is_err());
        let fpr = alice.fingerprint().to_hex();
        assert_eq!(
            parse_fingerprint(&fpr.to_lowercase()),
            Ok(alice.fingerprint())
        );
        assert!(parse_fingerprint("ABCD").is_err());
    }

    #[test]
    fn build_sources_need_listed_keys_trusted_keys_and_plain_file_names() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        std::fs::create_dir_all(&keys).unwrap();
        let alice = key("alice <alice@example.org>");
        let data = b"tarball";
        std::fs::write(dir.path().join("a.tar"), data).unwrap();
        std::fs::write(dir.path().join("a.tar.sig"), sign(&alice, data)).unwrap();
        let pairs = vec![("a.tar".to_string(), "a.tar.sig".to_string())];
        let listed = vec![alice.fingerprint().to_hex()];
        let err = verify_sources(dir.path(), &pairs, &[], &keys).unwrap_err();
        assert!(err.contains("no validpgpkeys"), "{err}");
        let err = verify_sources(dir.path(), &pairs, &listed, &keys).unwrap_err();
        assert!(err.contains("no trusted key"), "{err}");
        let mut armored = Vec::new();
        {
            use openpgp::serialize::Serialize;
            let mut w =
                openpgp::armor::Writer::new(&mut armored, openpgp::armor::Kind::PublicKey).unwrap();
            alice.serialize(&mut w).unwrap();
            w.finalize().unwrap();
        }
        std::fs::write(keys.join("alice.asc"), armored).unwrap();
        assert_eq!(verify_sources(dir.path(), &pairs, &listed, &keys), Ok(()));
        let escape = vec![("../a.tar".to_string(), "a.tar.sig".to_string())];
        let err = verify_sources(dir.path(), &escape, &listed, &keys).unwrap_err();
        assert!(err.contains("not a file name"), "{err}");
        assert!(verify_sources(dir.path(), &pairs, &["xyz".to_string()], &keys).is_err());
    }
}
