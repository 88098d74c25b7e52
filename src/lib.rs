//! # drydock
//!
//! Facade over the drydock workspace: a re-implementation of Airship Drydock, the bare-metal
//! provisioning orchestrator, as an embeddable Rust library with pluggable drivers.
//!
//! * [`core`]: the site design model, ingestion, compile, validation, the orchestrator and the
//!   `Driver`/`Store` traits, with an in-memory store and simulated drivers.
//! * `maas` (feature `maas`): the Canonical MAAS REST API 2.0 node driver.
//! * `ipmi` (feature `ipmi`): the IPMI v2.0 (RMCP+) out-of-band driver.
//! * `redfish` (feature `redfish`): the DMTF Redfish out-of-band driver (HTTPS).
//! * `sled` (feature `sled`): the durable embedded store on sled.

pub use drydock_core as core;

#[cfg(feature = "ipmi")]
pub use drydock_driver_ipmi as ipmi;
#[cfg(feature = "maas")]
pub use drydock_driver_maas as maas;
#[cfg(feature = "redfish")]
pub use drydock_driver_redfish as redfish;
#[cfg(feature = "sled")]
pub use drydock_store_sled as sled;
