//! Site design model, validation and orchestrator core of drydock.
//!
//! * [`design`]: the site design documents, their ingestion from YAML, host-profile
//!   inheritance and the compiled per-node design.

pub mod design;

#[cfg(feature = "testing")]
pub mod testing;
