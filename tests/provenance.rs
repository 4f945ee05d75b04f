//! `omg verify FILE --bundle …`: npm's real Sigstore provenance bundle for
//! sigstore@5.0.0 verified offline against the bundled public-good trusted
//! root, with the tarball from the npm registry; a wrong identity, another
//! file, and a bundle whose inclusion proof or checkpoint was tampered
//! with are refused.

mod common;

use std::path::{Path, PathBuf};

const IDENTITY: &str =
    "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn tarball() -> Option<PathBuf> {
    let path = Path::new("/opt/omg-test-data/sigstore-5.0.0.tgz");
    if path.is_file() {
        Some(path.into())
    } else {
        common::skip(&format!(
            "{} is absent (scripts/install-deps.sh fetches it)",
            path.display()
        ))
    }
}

fn bundle() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sigstore/sigstore-5.0.0.sigstore.json")
}

fn verify(env: &common::Env, file: &Path, bundle: &Path, identity: &str) -> common::Run {
    env.omg(&[
        "verify",
        &file.display().to_string(),
        "--bundle",
        &bundle.display().to_string(),
        "--identity",
        identity,
        "--issuer",
        ISSUER,
    ])
}

#[test]
fn provenance_is_verified_offline_and_tampering_is_refused() {
    let Some(tarball) = tarball() else {
        return;
    };
    let env = common::Env::new();
    let good = verify(&env, &tarball, &bundle(), IDENTITY);
    assert_eq!(good.code, 0, "{}", good.stderr);
    assert!(
        good.stdout.contains("provenance verified"),
        "{}",
        good.stdout
    );
    assert!(good.stdout.contains("inclusion proven"), "{}", good.stdout);

    let wrong = verify(
        &env,
        &tarball,
        &bundle(),
        "https://github.com/someone/else/.github/workflows/x.yml@refs/heads/main",
    );
    assert_eq!(wrong.code, 1);
    assert!(wrong.stderr.contains("SubjectAltName"), "{}", wrong.stderr);

    let other = env.dir.path().join("other.tgz");
    std::fs::write(&other, b"not the package").unwrap();
    let mismatch = verify(&env, &other, &bundle(), IDENTITY);
    assert_eq!(mismatch.code, 1);
    assert!(
        mismatch.stderr.contains("does not check out"),
        "{}",
        mismatch.stderr
    );

    // An inclusion proof that leads elsewhere (the sigstore crate alone
    // would not notice).
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle()).unwrap()).unwrap();
    let proof = &mut doc["verificationMaterial"]["tlogEntries"][0]["inclusionProof"];
    let first = proof["hashes"][0].as_str().unwrap().to_string();
    let swapped = if first.starts_with('A') {
        first.replacen('A', "B", 1)
    } else {
        format!("A{}", &first[1..])
    };
    proof["hashes"][0] = serde_json::Value::from(swapped);
    let forged = env.dir.path().join("forged-proof.json");
    std::fs::write(&forged, serde_json::to_vec(&doc).unwrap()).unwrap();
    let refused = verify(&env, &tarball, &forged, IDENTITY);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("inclusion proof"),
        "{}",
        refused.stderr
    );

    // A checkpoint whose signature is not the log's.
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle()).unwrap()).unwrap();
    let envelope = &mut doc["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
        ["envelope"];
    let text = envelope.as_str().unwrap().to_string();
    let (note, sigs) = text.split_once("\n\n").unwrap();
    let sigs = sigs.replacen('M', "N", 1);
    *envelope = serde_json::Value::from(format!("{note}\n\n{sigs}"));
    let forged = env.dir.path().join("forged-checkpoint.json");
    std::fs::write(&forged, serde_json::to_vec(&doc).unwrap()).unwrap();
    let refused = verify(&env, &tarball, &forged, IDENTITY);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("checkpoint"), "{}", refused.stderr);
}
