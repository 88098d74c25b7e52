//! Canonical MAAS REST API 2.0 node driver for drydock.
//!
//! This crate will hold the `MaasClient` (OAuth 1.0a PLAINTEXT, `op=` dispatch, typed models of
//! machines, interfaces, fabrics, VLANs, subnets, storage), the `MaasDriver` implementing the core
//! `NodeDriver` trait, and a fake MAAS server for tests.
