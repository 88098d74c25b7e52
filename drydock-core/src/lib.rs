//! Site design model, validation and orchestrator core of drydock.

#[cfg(feature = "testing")]
pub mod testing;
