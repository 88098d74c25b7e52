//! Site design model, validation and orchestrator core of drydock.
//!
//! * [`design`]: the site design documents, their ingestion from YAML, host-profile
//!   inheritance and the compiled per-node design.
//! * [`validation`]: the rules a design must pass before it is deployed, and a report in the
//!   reference's shape.

pub mod design;
pub mod validation;

#[cfg(feature = "testing")]
pub mod testing;
