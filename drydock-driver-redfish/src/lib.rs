//! DMTF Redfish out-of-band driver for drydock.
//!
//! [`RedfishDriver`] implements the core's [`OobDriver`](drydock_core::driver::OobDriver) for
//! nodes whose design says `oob: {type: redfish}`: power through `ComputerSystem.Reset`, the
//! next boot device through the `Boot` override, and hardware facts from the system, its
//! manager, its Ethernet interfaces and its drives. Configured by [`RedfishDriverConfig`];
//! per node by the OOB parameters described at [`BmcSettings`].
//!
//! ```no_run
//! # async fn demo(node: &drydock_core::design::CompiledNode)
//! # -> Result<(), drydock_core::driver::DriverError> {
//! use drydock_core::driver::{OobDriver, OobTarget, PowerAction};
//! use drydock_driver_redfish::{RedfishDriver, RedfishDriverConfig};
//! let driver = RedfishDriver::new(RedfishDriverConfig::default());
//! let target = OobTarget::from_node(node).expect("node has an OOB type");
//! driver.set_power(&target, PowerAction::On).await?;
//! driver.close().await; // deletes the Redfish sessions
//! # Ok(()) }
//! ```
//!
//! # Why reqwest and rustls rather than a Redfish crate
//!
//! The driver needs a dozen properties of four resources, and needs them leniently (BMCs
//! differ in what they fill in), with control over sessions, retries, task monitors, body
//! limits and certificate pinning. The crates considered:
//!
//! * `libredfish` (crates.io 0.1): a small blocking client on reqwest 0.11 with a handful of
//!   typed resources and almost no documentation; old, and a second reqwest in the build.
//! * `redfish` (0.3): a young async SDK with its own transport features and retries; it would
//!   bring a second HTTP stack choice and still leave pinning, the reset-type fallbacks and the
//!   boot override read-back to be written here.
//! * `nv-redfish` (NVIDIA): schema types generated from the DMTF CSDL by a build-time compiler
//!   (a schema crate of several MB), feature-gated per service, fast-moving; complete and
//!   strict, but heavy to build on the two-core machines this project targets, and strict
//!   typing is what vendor quirks break.
//!
//! The workspace already builds reqwest with rustls (the MAAS driver), so this crate adds no
//! HTTP or TLS stack: about 2,400 lines over `serde_json::Value`, whose parsers never fail on
//! a property of the wrong type (it counts as absent).
//!
//! # Behaviour worth knowing
//!
//! * TLS is verified by default (the built-in roots, or only the CA bundle given by the
//!   node's `tls_ca_file` or [`RedfishDriverConfig::ca_file`]). A BMC's self-signed
//!   certificate can be pinned by its SHA-256 (`tls_fingerprint`), which skips name and date
//!   checks. `tls_insecure: true`, [`RedfishDriverConfig::insecure`] or `scheme: http` turn
//!   checks off; each BMC reached so is logged once as a warning.
//! * Passwords and session tokens appear in no `Debug`, `Display`, error or log line; tokens
//!   go in sensitive header values and are zeroized when dropped.
//! * Errors are [`DriverErrorKind`](drydock_core::driver::DriverErrorKind)s: 401/403
//!   unauthorized, 404 not found, 408/429/5xx transient (501 unsupported), a refused
//!   connection `Unreachable`, a certificate that does not verify permanent; the service's
//!   `error.message` and `@Message.ExtendedInfo` messages are kept in the error's message.
//! * Every request has a timeout and a body limit; `503` is retried (Retry-After honoured,
//!   capped); a `202 Accepted` is followed through its task monitor to the end.
//! * Boot devices declared in the capabilities are `Pxe` and `Disk`; `Bios` (`BiosSetup`) is
//!   set when the service offers it and refused as unsupported otherwise.
//! * Interrogation facts: `system_id`, `manufacturer`, `model`, `serial_number`, `sku`,
//!   `part_number`, `uuid`, `bios_version`, `host_name`, `health`, `health_rollup`, `state`,
//!   `processor_count`, `processor_model`, `processor_health`, `memory_gib`, `memory_health`,
//!   `boot_mode`, `boot_override_target`, `boot_override_enabled`, `redfish_version`,
//!   `manager_firmware_version`, `manager_model`, `manager_health`, `ethernet_interfaces`,
//!   `ethernet_macs` (comma-separated, lower case), `drives` and `drive_bytes`, each when the
//!   service gives it.

mod client;
mod config;
mod driver;
mod error;
mod facts;
pub mod model;
mod power;
mod tls;

pub use config::{BmcSettings, RedfishDriverConfig, TlsPolicy};
pub use driver::{RedfishDriver, SessionStats};
pub use error::{Error, Result};
