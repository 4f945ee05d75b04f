//! `omgd`: the process that answers queries. It owns the backend, the index
//! and the store; the transports (`stdio` for now) only carry requests to
//! `Service::handle` and its answers back.

pub mod logger;
pub mod service;
pub mod stdio;
