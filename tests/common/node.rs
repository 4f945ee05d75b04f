//! A Node.js mirror laid out as nodejs.org/dist on 127.0.0.1: the index,
//! and for each release its archive (bin/node prints the version) and a
//! checksum list signed by a release key made here.

use super::http::FileServer;
use super::pgp::Cert;

pub struct NodeMirror {
    pub server: FileServer,
    signer: Cert,
    /// The directory of trusted release keys (`[runtimes] node_keys`).
    pub keys: tempfile::TempDir,
    published: std::sync::Mutex<Vec<String>>,
}

impl NodeMirror {
    /// A mirror with `versions` published.
    pub fn with(versions: &[&str]) -> NodeMirror {
        let signer = super::pgp::key("release <release@example.org>");
        let mirror = NodeMirror {
            server: FileServer::start(),
            keys: super::pgp::trusting(&signer),
            signer,
            published: std::sync::Mutex::new(Vec::new()),
        };
        for version in versions {
            mirror.publish(version);
        }
        mirror
    }

    pub fn url(&self) -> &str {
        self.server.url()
    }

    /// The `[runtimes]` lines that point omg here.
    pub fn config(&self) -> String {
        format!(
            "[runtimes]\nnode_mirror = \"{}\"\nnode_keys = \"{}\"\n",
            self.url(),
            self.keys.path().display()
        )
    }

    /// Publishes `version`: its archive, signed checksums, and the index
    /// entry (newest first).
    pub fn publish(&self, version: &str) {
        let archive = super::tar_gz(
            &format!("node-v{version}-linux-x64/bin/node"),
            &format!("#!/bin/sh\necho v{version}\n"),
        );
        let file = format!("node-v{version}-linux-x64.tar.gz");
        let sums = format!("{}  {file}\n", super::sha256_hex(&archive));
        self.server.put(&format!("/v{version}/{file}"), archive);
        self.server.put(
            &format!("/v{version}/SHASUMS256.txt.sig"),
            super::pgp::sign(&self.signer, sums.as_bytes(), super::pgp::Form::Detached),
        );
        self.server
            .put(&format!("/v{version}/SHASUMS256.txt"), sums.into_bytes());
        let mut published = self.published.lock().unwrap();
        published.push(version.to_string());
        published.sort_by(|a, b| omg::version::vercmp(b, a));
        let index: Vec<serde_json::Value> = published
            .iter()
            .map(|v| serde_json::json!({"version": format!("v{v}"), "date": "2023-11-22", "files": ["linux-x64"], "lts": "Iron"}))
            .collect();
        self.server
            .put("/index.json", serde_json::to_vec(&index).unwrap());
    }
}
