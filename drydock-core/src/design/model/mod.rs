//! The document kinds as written, with their decoders.

pub mod bootaction;
pub mod common;
pub mod hardware;
pub mod host;
pub mod network;
pub mod site;
