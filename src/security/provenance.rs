//! Provenance: a Sigstore bundle for an artifact, verified offline with
//! the sigstore crate against a trusted root (the Sigstore public-good
//! root bundled with omg, or one the user names): the signing
//! certificate's chain to Fulcio and its embedded SCT, the identity and
//! issuer the user requires, the signature over the artifact (or the
//! in-toto statement naming its digest), and the transparency log entry's
//! consistency. The crate does not yet check the log's inclusion proof, so
//! this module does: the Merkle audit path from the entry to the root
//! hash (RFC 6962), and the signed checkpoint carrying that root, under a
//! Rekor key of the trusted root.

use std::path::Path;

use base64::Engine as _;
use sha2::{Digest, Sha256, Sha512};
use sigstore::bundle::Bundle;
use sigstore::bundle::verify::policy::Identity;
use sigstore::bundle::verify::{ArtifactDigest, Verifier};
use sigstore::crypto::{CosignVerificationKey, Signature};
use sigstore::trust::sigstore::SigstoreTrustRoot;

/// The Sigstore public-good trusted root, as pinned when omg was built.
pub const BUNDLED_TRUSTED_ROOT: &[u8] = include_bytes!("../../data/sigstore/trusted_root.json");

/// Verifies `bundle` for the artifact `file`, requiring a certificate for
/// `identity` from `issuer`; returns what was verified.
pub async fn verify(
    file: &Path,
    bundle: &Path,
    identity: &str,
    issuer: &str,
    trusted_root: Option<&Path>,
) -> Result<String, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let artifact = read(file)?;
    let bundle_text = read(bundle)?;
    let root_json = match trusted_root {
        Some(p) => read(p)?,
        None => BUNDLED_TRUSTED_ROOT.to_vec(),
    };
    let raw: serde_json::Value = serde_json::from_slice(&bundle_text)
        .map_err(|e| format!("{} is not a Sigstore bundle: {e}", bundle.display()))?;
    let parse_bundle = || -> Result<Bundle, String> {
        serde_json::from_slice(&bundle_text)
            .map_err(|e| format!("{} is not a Sigstore bundle: {e}", bundle.display()))
    };
    let root = SigstoreTrustRoot::from_trusted_root_json_unchecked(&root_json)
        .map_err(|e| format!("the trusted root is unusable: {e}"))?;
    let verifier = Verifier::new(Default::default(), root)
        .map_err(|e| format!("the trusted root is unusable: {e}"))?;
    let policy = Identity::new(identity, issuer);
    // Message signatures are over the SHA-256; in-toto statements name
    // the artifact by SHA-256 or SHA-512: either must match.
    let sha256: [u8; 32] = Sha256::digest(&artifact).into();
    let sha512: [u8; 64] = Sha512::digest(&artifact).into();
    let mut failure = String::new();
    let mut verified = false;
    for digest in [
        ArtifactDigest::Sha256(sha256),
        ArtifactDigest::Sha512(sha512),
    ] {
        match verifier
            .verify_digest_with(digest, parse_bundle()?, &policy, true)
            .await
        {
            Ok(()) => {
                verified = true;
                break;
            }
            Err(e) => {
                if failure.is_empty() {
                    failure = e.to_string();
                }
            }
        }
    }
    if !verified {
        return Err(format!(
            "the provenance of {} does not check out: {failure}",
            file.display()
        ));
    }
    let log_index = check_inclusion(&raw, &root_json)?;
    Ok(format!(
        "{identity} (issuer {issuer}); in the transparency log at index {log_index}, inclusion proven"
    ))
}

fn b64(text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("bad base64 in the bundle: {e}"))
}

fn hash_children(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of a Merkle tree of `size` leaves computed from the leaf at
/// `index` and its audit path (RFC 6962 / RFC 9162 §2.1.3.2).
pub fn root_from_path(index: u64, size: u64, leaf: [u8; 32], path: &[Vec<u8>]) -> Option<[u8; 32]> {
    if index >= size {
        return None;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = leaf;
    for p in path {
        if sn == 0 {
            return None;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = hash_children(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = hash_children(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(r)
}

/// Checks the bundle's inclusion proof and its signed checkpoint; returns
/// the entry's log index.
fn check_inclusion(bundle: &serde_json::Value, root_json: &[u8]) -> Result<String, String> {
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    let proof = &entry["inclusionProof"];
    if proof.is_null() {
        return Err("the bundle carries no inclusion proof for its log entry".into());
    }
    let number = |v: &serde_json::Value| -> Option<u64> {
        v.as_str()
            .and_then(|s| s.parse().ok())
            .or_else(|| v.as_u64())
    };
    let index = number(&proof["logIndex"]).ok_or("the inclusion proof has no log index")?;
    let size = number(&proof["treeSize"]).ok_or("the inclusion proof has no tree size")?;
    let root_hash = b64(proof["rootHash"].as_str().unwrap_or_default())?;
    let body = b64(entry["canonicalizedBody"].as_str().unwrap_or_default())?;
    let mut leaf = Sha256::new();
    leaf.update([0u8]);
    leaf.update(&body);
    let path: Vec<Vec<u8>> = proof["hashes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| b64(h.as_str().unwrap_or_default()))
        .collect::<Result<_, _>>()?;
    let computed = root_from_path(index, size, leaf.finalize().into(), &path)
        .ok_or("the inclusion proof does not fit the tree")?;
    if computed.as_slice() != root_hash.as_slice() {
        return Err(
            "the log entry is not in the log: its inclusion proof leads to another root".into(),
        );
    }
    // The checkpoint: a signed note whose second and third lines are the
    // tree size and the root hash.
    let checkpoint = proof["checkpoint"]["envelope"]
        .as_str()
        .ok_or("the inclusion proof has no checkpoint")?;
    let (note, signatures) = checkpoint
        .split_once("\n\n")
        .ok_or("the checkpoint is not a signed note")?;
    let lines: Vec<&str> = note.lines().collect();
    if lines.len() < 3 || lines[1].parse::<u64>().ok() != Some(size) || b64(lines[2])? != root_hash
    {
        return Err("the checkpoint does not vouch for the proof's root".into());
    }
    let root: serde_json::Value =
        serde_json::from_slice(root_json).map_err(|e| format!("bad trusted root: {e}"))?;
    let keys: Vec<Vec<u8>> = root["tlogs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| b64(t["publicKey"]["rawBytes"].as_str()?).ok())
        .collect();
    let signed = format!("{note}\n");
    let good = signatures.lines().any(|line| {
        let Some(sig) = line.rsplit(' ').next().and_then(|s| b64(s).ok()) else {
            return false;
        };
        // Four bytes of key hint, then the signature.
        sig.len() > 4
            && keys.iter().any(|der| {
                CosignVerificationKey::try_from_der(der).is_ok_and(|key| {
                    key.verify_signature(Signature::Raw(&sig[4..]), signed.as_bytes())
                        .is_ok()
                })
            })
    });
    if !good {
        return Err(
            "the checkpoint is not signed by a transparency log the trusted root names".into(),
        );
    }
    Ok(index.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(n: u8) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update([0u8, n]);
        h.finalize().into()
    }

    #[test]
    fn audit_paths_lead_to_the_root_of_a_small_tree() {
        // Five leaves: root = H(H(H(l0,l1),H(l2,l3)), l4).
        let l: Vec<[u8; 32]> = (0..5).map(leaf).collect();
        let h01 = hash_children(&l[0], &l[1]);
        let h23 = hash_children(&l[2], &l[3]);
        let h0123 = hash_children(&h01, &h23);
        let root = hash_children(&h0123, &l[4]);
        assert_eq!(
            root_from_path(2, 5, l[2], &[l[3].to_vec(), h01.to_vec(), l[4].to_vec()]),
            Some(root)
        );
        assert_eq!(root_from_path(4, 5, l[4], &[h0123.to_vec()]), Some(root));
        assert_ne!(
            root_from_path(2, 5, l[3], &[l[3].to_vec(), h01.to_vec(), l[4].to_vec()]),
            Some(root)
        );
        assert_eq!(root_from_path(5, 5, l[4], &[]), None);
    }
}
