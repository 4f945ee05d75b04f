//! `omg verify FILE --sig SIG [--keyring K]`: a detached OpenPGP
//! signature checked by omgd (which carries the OpenPGP library) against
//! the keys the user names, or those in `<config>/keys`; and `omg verify
//! FILE --bundle B --identity … --issuer …`: a Sigstore provenance bundle,
//! checked offline by omgd.

use super::{EXIT_FAILURE, EXIT_OK, Failure, Session, unexpected};
use crate::ipc::protocol::{RequestBody, ResponseBody};

fn absolute(path: &std::path::Path) -> Result<String, Failure> {
    std::path::absolute(path)
        .map(|p| p.display().to_string())
        .map_err(|e| Failure::new(format!("{}: {e}", path.display()), EXIT_FAILURE))
}

pub async fn run(
    session: &mut Session,
    file: &std::path::Path,
    signature: &std::path::Path,
    keyring: Option<&std::path::Path>,
) -> Result<u8, Failure> {
    for path in [file, signature] {
        if !path.is_file() {
            return Err(Failure::new(
                format!("{} is not a file", path.display()),
                EXIT_FAILURE,
            ));
        }
    }
    let keyring = match keyring {
        Some(k) => k.to_path_buf(),
        None => crate::config::Paths::user()
            .map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?
            .config_dir
            .join("keys"),
    };
    let body = RequestBody::VerifyFile {
        file: absolute(file)?,
        signature: absolute(signature)?,
        keyring: absolute(&keyring)?,
    };
    let ResponseBody::Verified { signer } = session.request(body).await? else {
        return Err(unexpected());
    };
    println!("{}: good signature by {signer}", file.display());
    Ok(EXIT_OK)
}

/// What `--bundle` verification needs.
pub struct Provenance<'a> {
    pub bundle: &'a std::path::Path,
    pub identity: &'a str,
    pub issuer: &'a str,
    pub trusted_root: Option<&'a std::path::Path>,
}

pub async fn run_provenance(
    session: &mut Session,
    file: &std::path::Path,
    provenance: &Provenance<'_>,
) -> Result<u8, Failure> {
    for path in [file, provenance.bundle] {
        if !path.is_file() {
            return Err(Failure::new(
                format!("{} is not a file", path.display()),
                EXIT_FAILURE,
            ));
        }
    }
    let body = RequestBody::VerifyProvenance {
        file: absolute(file)?,
        bundle: absolute(provenance.bundle)?,
        identity: provenance.identity.to_string(),
        issuer: provenance.issuer.to_string(),
        trusted_root: provenance.trusted_root.map(absolute).transpose()?,
    };
    let ResponseBody::Verified { signer } = session.request(body).await? else {
        return Err(unexpected());
    };
    println!(
        "{}: provenance verified: signed by {signer}",
        file.display()
    );
    Ok(EXIT_OK)
}
