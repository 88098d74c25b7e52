//! Durable embedded store for drydock on sled.
//!
//! This crate will hold `SledStore`, the implementation of the core `Store` trait that keeps
//! tasks, the per-task step journal, status messages, design snapshots and build data on disk.
