//! `omg verify FILE --sig SIG [--keyring K]`: a detached OpenPGP
//! signature checked by omgd (which carries the OpenPGP library) against
//! the keys the user names, or those in `<config>/keys`; and `omg verify
//! FILE --bundle B --identity … --issuer …`: a Sigstore provenance bundle,
//! checked offline by omgd.

use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Failure, Session, unexpected};
use crate::ipc::protocol::{RequestBody, ResponseBody};
use clap::Args;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The signed file
    pub file: std::path::PathBuf,
    /// Its detached signature (binary or armored)
    #[arg(
        long,
        value_name = "SIG",
        required_unless_present = "bundle",
        conflicts_with = "bundle"
    )]
    pub sig: Option<std::path::PathBuf>,
    /// A keyring file or a directory of keys (default: <config>/keys)
    #[arg(long, value_name = "K", requires = "sig")]
    pub keyring: Option<std::path::PathBuf>,
    /// A Sigstore bundle (.sigstore.json) for the file
    #[arg(long, value_name = "B", requires_all = ["identity", "issuer"])]
    pub bundle: Option<std::path::PathBuf>,
    /// The identity the signing certificate must name (SAN: a workflow
    /// URI or an e-mail)
    #[arg(long, value_name = "ID", requires = "bundle")]
    pub identity: Option<String>,
    /// The OIDC issuer that must have vouched for it
    #[arg(long, value_name = "URL", requires = "bundle")]
    pub issuer: Option<String>,
    /// A Sigstore trusted_root.json instead of the bundled public-good root
    #[arg(long, value_name = "FILE", requires = "bundle")]
    pub trusted_root: Option<std::path::PathBuf>,
}

/// `omg verify FILE --sig SIG` or `--bundle B --identity ID --issuer URL`.
pub async fn run(session: &mut Session, args: &VerifyArgs) -> Result<u8, Failure> {
    match (&args.sig, &args.bundle) {
        (Some(sig), _) => signature(session, &args.file, sig, args.keyring.as_deref()).await,
        (None, Some(bundle)) => {
            let provenance = Provenance {
                bundle,
                identity: args.identity.as_deref().unwrap_or_default(),
                issuer: args.issuer.as_deref().unwrap_or_default(),
                trusted_root: args.trusted_root.as_deref(),
            };
            run_provenance(session, &args.file, &provenance).await
        }
        (None, None) => Err(Failure::new("give --sig or --bundle", EXIT_USAGE)),
    }
}

fn absolute(path: &std::path::Path) -> Result<String, Failure> {
    std::path::absolute(path)
        .map(|p| p.display().to_string())
        .map_err(|e| Failure::new(format!("{}: {e}", path.display()), EXIT_FAILURE))
}

async fn signature(
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
