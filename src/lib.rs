//! # drydock
//!
//! Facade over the drydock workspace: a re-implementation of Airship Drydock, the bare-metal
//! provisioning orchestrator, as an embeddable Rust library with pluggable drivers. It is the
//! one dependency an embedder adds; its features select the parts.
//!
//! * [`core`]: the site design model, ingestion, compile, validation, the orchestrator and the
//!   `Driver`/`Store` traits, with an in-memory store and simulated drivers.
//! * `maas` (feature `maas`): the Canonical MAAS REST API 2.0 node driver.
//! * `ipmi` (feature `ipmi`): the IPMI v2.0 (RMCP+) out-of-band driver.
//! * `redfish` (feature `redfish`): the DMTF Redfish out-of-band driver (HTTPS).
//! * `sled` (feature `sled`): the durable embedded store on sled.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `orchestrator` | yes | `core`'s orchestrator, tasks, `Store` and driver traits, `MemoryStore` and boot actions, with their runtime dependencies (tokio, minijinja, tar, flate2, ...). Without it, `core` holds the design model and validation only |
//! | `maas` | yes | the MAAS node driver (`drydock::maas`); implies `orchestrator` |
//! | `ipmi` | yes | the IPMI out-of-band driver (`drydock::ipmi`); implies `orchestrator` |
//! | `sled` | yes | the sled store (`drydock::sled`); implies `orchestrator` |
//! | `api` | yes | the HTTP side on axum (`drydock::api`): boot action endpoints for deployed nodes and the Python Drydock's v1.0 REST API (for Shipyard); implies `orchestrator` |
//! | `maas-fake` | no | the MAAS driver's fake MAAS server (`drydock::maas::fake`), for tests and demos; implies `maas` |
//! | `sim` | no | `core::sim`: a simulated BMC fleet and provisioner, with latency and injected failures; implies `orchestrator` |
//! | `testing` | no | `core::testing`: visible skips for tests that lack a tool or the outside corpus, `testing::sites::generate` (large valid site designs); with `orchestrator`, the conformance suites for drivers (`testing::drivers`) and stores (`testing::store`) |
//!
//! A site repository that only reads and validates its designs needs none of the orchestrator:
//!
//! ```toml
//! [dev-dependencies]
//! drydock = { version = "0.1", default-features = false }
//! ```
//!
//! ```
//! // design and validation are there whatever the features.
//! let design = drydock::core::design::compile(
//!     drydock::core::design::ingest_str(
//!         "schema: drydock/Network/v1\nmetadata: {name: mgmt}\ndata: {cidr: 10.0.0.0/24}\n",
//!     )
//!     .unwrap(),
//! )
//! .unwrap();
//! let report = drydock::core::validation::validate(&design, &Default::default());
//! assert!(report.is_valid());
//! ```

pub use drydock_core as core;

#[cfg(feature = "api")]
pub use drydock_api as api;
#[cfg(feature = "ipmi")]
pub use drydock_driver_ipmi as ipmi;
#[cfg(feature = "maas")]
pub use drydock_driver_maas as maas;
#[cfg(feature = "redfish")]
pub use drydock_driver_redfish as redfish;
#[cfg(feature = "sled")]
pub use drydock_store_sled as sled;
