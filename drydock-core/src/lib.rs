//! Site design model, validation and orchestrator core of drydock.
