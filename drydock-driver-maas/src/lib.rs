//! Canonical MAAS REST API 2.0 client for drydock, with a fake MAAS for tests.
//!
//! * [`MaasClient`]: OAuth 1.0a PLAINTEXT signed per attempt, `op` in the query string, form
//!   bodies with repeated keys for lists, connect/read timeouts, retries only where MAAS says a
//!   retry is safe, errors classified in [`MaasError`].
//! * [`models`]: typed, tolerant models of what the driver reads.
//! * Resource views with typed calls: [`MaasClient::machines`], [`MaasClient::fabrics`], ….
//! * `fake` (feature `fake`): an axum server that behaves like MAAS (OAuth checks, op dispatch,
//!   transition table, a clock tests control, fault injection).
//!
//! * [`MaasDriver`]: the core's `NodeDriver` on top of the client (see [`driver`]).

mod api;
mod client;
pub mod details;
pub mod driver;
mod error;
mod key;
pub mod models;
pub mod oauth;
mod params;

#[cfg(feature = "fake")]
pub mod fake;

pub use api::*;
pub use client::{
    DEFAULT_BODY_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_WAIT, DEFAULT_READ_TIMEOUT, DEFAULT_RETRY_BUDGET,
    ERROR_BODY_BYTES, MaasClient, MaasClientBuilder, RawResponse,
};
pub use driver::{MaasDriver, MaasDriverConfig};
pub use error::{MaasError, Result};
pub use key::{ApiKeyError, MaasApiKey};
pub use models::{Machine, MachineStatus, PowerState};
pub use params::Params;
