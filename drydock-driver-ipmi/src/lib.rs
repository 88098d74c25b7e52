//! IPMI v2.0 (RMCP+) out-of-band driver for drydock.
//!
//! Two layers:
//!
//! * a pure protocol layer without I/O, every parser of which returns a typed
//!   [`ProtocolError`] on bad input: [`rmcp`] (RMCP header, ASF ping/pong), [`packet`]
//!   (IPMI 1.5 and RMCP+ session wrappers, integrity trailer, encryption), [`rakp`] (Open
//!   Session, RAKP 1-4, key exchange), [`crypto`] (cipher suites, HMAC, K1/K2, AES-CBC-128),
//!   [`seq`] (sequence numbers and replay window), [`message`] (IPMI message framing),
//!   [`commands`] and [`completion`];
//! * an async client on a tokio UDP socket, [`IpmiClient`], configured by [`IpmiConfig`]:
//!   it opens an RMCP+ session (cipher suite 3 by default, 17 when the BMC offers it), raises
//!   it to the configured privilege, retransmits on timeouts and always closes the session.
//!
//! On top of the client, [`IpmiDriver`] implements the core's
//! [`OobDriver`](drydock_core::driver::OobDriver): sessions reused per BMC across calls (or one
//! per call), power changes verified by
//! polling, boot devices read back, a global session limit, errors classified as
//! [`DriverErrorKind`](drydock_core::driver::DriverErrorKind)s. Configured by
//! [`IpmiDriverConfig`]; targets come from the node's compiled design
//! ([`OobTarget::from_node`](drydock_core::driver::OobTarget::from_node)).
//!
//! ```no_run
//! # async fn demo(node: &drydock_core::design::CompiledNode)
//! # -> Result<(), drydock_core::driver::DriverError> {
//! use drydock_core::driver::{OobDriver, OobTarget, PowerAction};
//! use drydock_driver_ipmi::{IpmiDriver, IpmiDriverConfig};
//! let driver = IpmiDriver::new(IpmiDriverConfig {
//!     power_deadline_ms: 120_000,
//!     ..IpmiDriverConfig::default()
//! });
//! let target = OobTarget::from_node(node).expect("node has an OOB type");
//! driver.set_power(&target, PowerAction::On).await?;
//! # Ok(()) }
//! ```
//!
//! # Behaviour worth knowing
//!
//! * Sessions start at USER privilege on many BMCs (`ipmi_sim` included): after RAKP 4 the
//!   client sends Set Session Privilege Level for [`IpmiConfig::privilege`] (administrator by
//!   default) and fails with [`Error::Unauthorized`] if the BMC grants less.
//! * Wrong user names and passwords are [`ErrorKind::Unauthorized`] (RAKP 2 status, or a
//!   key-exchange code that does not verify), never timeouts.
//! * Every exchange is bounded by `timeout x (1 + retries)`; a BMC that only answers garbage
//!   yields [`ErrorKind::Protocol`] instead of [`ErrorKind::Timeout`].
//! * Power changes are asynchronous on the BMC: poll [`IpmiClient::power_state`].
//! * Boot flags are read back device-only: `ipmi_sim` ignores the persistent and EFI bits and
//!   never sets "valid".
//!
//! ```no_run
//! # async fn demo() -> Result<(), drydock_driver_ipmi::Error> {
//! use drydock_driver_ipmi::{IpmiClient, IpmiConfig, PowerAction};
//! let config = IpmiConfig::new("10.0.0.5", "admin", "password");
//! let client = IpmiClient::connect(&config).await?;
//! client.power(PowerAction::On).await?;
//! println!("{:?}", client.power_state().await?);
//! client.close().await?;
//! # Ok(()) }
//! ```

mod client;
pub mod commands;
pub mod completion;
mod config;
pub mod crypto;
mod driver;
mod error;
pub mod message;
pub mod packet;
mod pool;
pub mod rakp;
pub mod rmcp;
pub mod seq;
mod session;
mod transport;

pub use client::IpmiClient;
pub use commands::{
    BootDevice, BootFlags, ChassisStatus, DeviceId, PowerAction, PowerState, SelInfo,
};
pub use completion::CompletionCode;
pub use config::{DEFAULT_PORT, DEFAULT_RETRIES, DEFAULT_TIMEOUT, IpmiConfig, Secret};
pub use driver::{IpmiDriver, IpmiDriverConfig, classify};
pub use error::{Error, ErrorKind, ProtocolError, Result};
pub use pool::SessionStats;
pub use rakp::PrivilegeLevel;
