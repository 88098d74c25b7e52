//! IPMI v2.0 (RMCP+) out-of-band driver for drydock.
//!
//! This crate will hold a pure protocol layer (RMCP, RMCP+ session establishment, RAKP, integrity
//! and confidentiality), an async session layer on UDP, and the `IpmiDriver` implementing the core
//! `OobDriver` trait: power control and boot device selection.
