//! Language runtimes (node, python, go, rust, ruby, java, bun): which
//! version a directory asks for (`version_file`).

pub mod version_file;
