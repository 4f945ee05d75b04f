//! Language runtimes (node, python, go, rust, ruby, java, bun): which
//! version a directory asks for (`version_file`), and Node.js releases
//! and how a request picks one (`node`), and unpacking release archives
//! without letting them write outside their directory (`archive`); the
//! shell hook that puts the wanted versions on PATH (`hook`); Rust
//! toolchains from channel manifests (`rust`), Ruby built from source
//! (`ruby`), and the verified install of each (`install`); what each
//! upstream offers now, for `omg outdated` (`upstream`).

/// Where installed versions live: `<data>/versions/<runtime>/<version>`.
pub fn versions_dir(paths: &crate::config::Paths) -> std::path::PathBuf {
    paths.data_dir.join("versions")
}

pub mod archive;
pub mod download;
pub mod go;
pub mod hook;
pub mod install;
pub mod installer;
pub mod java;
pub mod node;
pub mod project_env;
pub mod python;
pub mod ruby;
pub mod rust;
pub mod upstream;
pub mod version_file;
pub mod versions;
