//! Site design model, validation and orchestrator core of drydock.
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
