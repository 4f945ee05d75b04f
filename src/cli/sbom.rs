//! `omg audit sbom [--format cyclonedx|spdx] [--vulns]`: a software bill
//! of materials of the installed packages (with package URLs:
//! `pkg:deb/debian/NAME@VERSION?arch=…`, `pkg:alpm/arch/NAME@VERSION?arch=…`)
//! and the runtime versions omg installed, as CycloneDX 1.5 JSON or
//! SPDX 2.3 JSON; with `--vulns`, the known vulnerabilities (CycloneDX).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{EXIT_OK, Failure, Session, print_json, unexpected};
use crate::ipc::protocol::{RequestBody, ResponseBody};
use crate::model::{BackendKind, ListFilter};

/// One component of the bill.
struct Component {
    name: String,
    version: String,
    purl: String,
    kind: &'static str,
}

/// Percent-encodes what a purl may not carry as is (RFC 3986 unreserved
/// characters stay).
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The package URL of a distribution package.
pub fn purl(kind: BackendKind, name: &str, version: &str, arch: &str) -> String {
    let (ty, namespace) = match kind {
        BackendKind::Apt => ("deb", "debian"),
        BackendKind::Alpm => ("alpm", "arch"),
    };
    format!(
        "pkg:{ty}/{namespace}/{}@{}?arch={}",
        encode(name),
        encode(version),
        encode(arch)
    )
}

/// A random (version 4) UUID.
fn uuid() -> String {
    let mut bytes = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut bytes);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn timestamp() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// The runtime versions in `<data>/versions`.
fn runtimes() -> Vec<Component> {
    let Ok(paths) = crate::config::Paths::user() else {
        return Vec::new();
    };
    let versions = crate::runtime::versions_dir(&paths);
    let mut out = Vec::new();
    for runtime in crate::runtime::version_file::Runtime::ALL {
        for version in super::runtime::installed(&versions, runtime) {
            let name = runtime.as_str().to_string();
            out.push(Component {
                purl: format!("pkg:generic/{}@{}", encode(&name), encode(&version)),
                name,
                version,
                kind: "application",
            });
        }
    }
    out
}

pub async fn run(session: &mut Session, format: &str, with_vulns: bool) -> Result<u8, Failure> {
    let ResponseBody::Status(status) = session.request(RequestBody::Status).await? else {
        return Err(unexpected());
    };
    let ResponseBody::List(installed) = session
        .request(RequestBody::List {
            filter: ListFilter::All,
        })
        .await?
    else {
        return Err(unexpected());
    };
    let mut components: Vec<Component> = installed
        .iter()
        .map(|p| Component {
            purl: purl(status.backend, &p.name, &p.version, &p.architecture),
            name: p.name.clone(),
            version: p.version.clone(),
            kind: "library",
        })
        .collect();
    components.extend(runtimes());
    let vulns = if with_vulns {
        match session
            .request(RequestBody::Audit { refresh: false })
            .await?
        {
            ResponseBody::Audit(report) => Some(report),
            _ => return Err(unexpected()),
        }
    } else {
        None
    };
    let document = match format {
        "spdx" => spdx(&components),
        _ => cyclonedx(status.backend, &components, vulns.as_ref(), &installed),
    };
    print_json(&document)?;
    Ok(EXIT_OK)
}

fn cyclonedx(
    kind: BackendKind,
    components: &[Component],
    report: Option<&crate::security::vulns::AuditReport>,
    installed: &[crate::model::InstalledPackage],
) -> Value {
    let list: Vec<Value> = components
        .iter()
        .map(|c| {
            json!({
                "type": c.kind,
                "bom-ref": c.purl,
                "name": c.name,
                "version": c.version,
                "purl": c.purl,
            })
        })
        .collect();
    let mut bom = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": format!("urn:uuid:{}", uuid()),
        "version": 1,
        "metadata": {
            "timestamp": timestamp(),
            "tools": {
                "components": [{
                    "type": "application",
                    "name": "omg",
                    "version": env!("CARGO_PKG_VERSION"),
                }]
            },
            "component": {
                "type": "operating-system",
                "name": match kind { BackendKind::Apt => "debian", BackendKind::Alpm => "arch" },
                "bom-ref": "system",
            },
        },
        "components": list,
    });
    if let Some(report) = report {
        // One entry per advisory, affecting every package it names.
        let mut by_id: BTreeMap<String, (Value, Vec<String>)> = BTreeMap::new();
        for finding in &report.findings {
            let arch = installed
                .iter()
                .find(|p| p.name == finding.name)
                .map_or("", |p| p.architecture.as_str());
            let reference = purl(kind, &finding.name, &finding.version, arch);
            for a in &finding.advisories {
                let entry = by_id.entry(a.id.clone()).or_insert_with(|| {
                    let mut v = json!({
                        "bom-ref": format!("vuln-{}", a.id),
                        "id": a.id,
                        "source": { "name": report.source },
                        "ratings": [{ "severity": match a.severity {
                            crate::security::vulns::Severity::Unknown => "unknown",
                            s => s.as_str(),
                        }}],
                    });
                    if !a.kind.is_empty() {
                        v["description"] = json!(a.kind);
                    }
                    if let Some(fixed) = &a.fixed {
                        v["recommendation"] = json!(format!("upgrade to {fixed} or later"));
                    }
                    if a.cves.len() > 1 || a.cves.first().is_some_and(|c| c != &a.id) {
                        v["references"] = json!(
                            a.cves
                                .iter()
                                .map(|c| json!({"id": c, "source": {"name": "NVD"}}))
                                .collect::<Vec<_>>()
                        );
                    }
                    (v, Vec::new())
                });
                if !entry.1.contains(&reference) {
                    entry.1.push(reference.clone());
                }
            }
        }
        let vulnerabilities: Vec<Value> = by_id
            .into_values()
            .map(|(mut v, refs)| {
                v["affects"] = json!(refs.iter().map(|r| json!({"ref": r})).collect::<Vec<_>>());
                v
            })
            .collect();
        bom["vulnerabilities"] = json!(vulnerabilities);
    }
    bom
}

fn spdx(components: &[Component]) -> Value {
    let packages: Vec<Value> = components
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "name": c.name,
                "SPDXID": format!("SPDXRef-Package-{i}"),
                "versionInfo": c.version,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "externalRefs": [{
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": c.purl,
                }],
            })
        })
        .collect();
    let relationships: Vec<Value> = (0..components.len())
        .map(|i| {
            json!({
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": format!("SPDXRef-Package-{i}"),
            })
        })
        .collect();
    let id = uuid();
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "installed-packages",
        "documentNamespace": format!("https://spdx.org/spdxdocs/omg-installed-packages-{id}"),
        "creationInfo": {
            "created": timestamp(),
            "creators": [format!("Tool: omg-{}", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "relationships": relationships,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_encode_epochs_and_name_the_distribution() {
        assert_eq!(
            purl(BackendKind::Apt, "vim", "2:9.0.1378-2+deb12u2", "amd64"),
            "pkg:deb/debian/vim@2%3A9.0.1378-2%2Bdeb12u2?arch=amd64"
        );
        assert_eq!(
            purl(BackendKind::Alpm, "openconnect", "1:8.05-1", "x86_64"),
            "pkg:alpm/arch/openconnect@1%3A8.05-1?arch=x86_64"
        );
        let id = uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
    }
}
