//! Site design model, validation and orchestrator core of drydock.
//!
//! A site design is a stream of YAML documents (networks, links, host profiles, nodes, ...).
//! drydock reads it into a typed model, resolves host-profile inheritance into one compiled
//! design per node, checks it against the validation rules, and deploys it through drivers,
//! journaling every step so that a task interrupted by a failure or a crash resumes with only
//! the steps still needed.
//!
//! Read and validate a design (what a site repository's tests do):
//!
//! ```
//! use drydock_core::design::{compile, ingest_str};
//! use drydock_core::validation::{ValidationContext, validate};
//!
//! let site = "\
//! schema: drydock/Network/v1
//! metadata: {name: oob}
//! data: {cidr: 10.0.0.0/24, mtu: 99999}
//! ";
//! let design = compile(ingest_str(site).expect("reads")).expect("compiles");
//! let report = validate(&design, &ValidationContext::default());
//! // An MTU outside 1280..=65536 is an error, found at the field.
//! assert!(!report.is_valid());
//! let finding = report.errors().next().expect("one error");
//! assert!(finding.message.contains("99999"), "{}", finding.message);
//! assert_eq!(finding.field.as_deref(), Some("data.mtu"));
//! ```
//!
//! Deploying goes through [`orchestrator::Orchestrator`] (its docs show a whole run over the
//! simulated drivers), with a [`store::Store`] (the [`store::MemoryStore`] here, sled or others
//! in their own crates) and the driver crates' implementations of [`driver::OobDriver`] and
//! [`driver::NodeDriver`].
//!
//! * [`bootaction`]: boot action records, asset rendering, tarballs and status reports.
//! * [`design`]: the site design documents, their ingestion from YAML, host-profile
//!   inheritance and the compiled per-node design.
//! * [`driver`]: the out-of-band and node driver traits and their classified error.
//! * [`task`]: tasks, actions, statuses and the result algebra.
//! * [`store`]: the `Store` trait and `MemoryStore`.
//! * [`orchestrator`]: runs tasks through the drivers, journaling each step so that a task
//!   resumes with only the steps still needed.
//! * [`validation`]: the rules a design must pass before it is deployed, and a report in the
//!   reference's shape.
//!
//! # Features
//!
//! * `orchestrator` (default): everything but [`design`] and [`validation`]: the
//!   orchestrator, tasks, the store and driver traits, boot actions, with their dependencies
//!   (tokio, minijinja, tar, flate2, ...). A project that only reads and validates designs
//!   (a site repository's tests) depends on `drydock-core` with `default-features = false`.
//! * `sim` (implies `orchestrator`): the simulated BMC fleet and provisioner (`sim`).
//! * `testing`: test support: visible skips for missing tools, the outside corpus and Python
//!   peers; a generator of large valid sites (`testing::sites`); with `orchestrator`, the
//!   conformance suites for drivers and stores.

#[cfg(feature = "orchestrator")]
pub mod bootaction;
pub mod design;
#[cfg(feature = "orchestrator")]
pub mod driver;
#[cfg(feature = "orchestrator")]
pub mod orchestrator;
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(feature = "orchestrator")]
pub mod store;
#[cfg(feature = "orchestrator")]
pub mod task;
pub mod validation;

#[cfg(feature = "testing")]
pub mod testing;
