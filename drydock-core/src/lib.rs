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

pub mod bootaction;
pub mod design;
pub mod driver;
pub mod orchestrator;
#[cfg(feature = "sim")]
pub mod sim;
pub mod store;
pub mod task;
pub mod validation;

#[cfg(feature = "testing")]
pub mod testing;
