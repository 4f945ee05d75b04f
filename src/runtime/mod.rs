//! Language runtimes (node, python, go, rust, ruby, java, bun): which
//! version a directory asks for (`version_file`), and Node.js releases
//! and how a request picks one (`node`), and unpacking release archives
//! without letting them write outside their directory (`archive`).

pub mod archive;
pub mod node;
pub mod version_file;
