//! Hardware-profile device aliases resolved to the machine's device names through its
//! commissioning data (the `lshw` XML of `op=details`, see [`crate::details`]), like Drydock's
//! `apply_logicalnames`.
//!
//! * **NIC aliases** (interface slaves; `bus_type: pci`):
//!   * a bus address (`0000:19:00.0`) names the network device at that address;
//!   * a `regexp:<re>` address names the *first* network device, in lshw document order, whose
//!     `businfo` without its `pci@` prefix matches `<re>` **anchored at its start only** (Python
//!     `re.match` semantics: `0000:19` matches `0000:19:00.0`). Used to find "the first port"
//!     across vendors whose cards sit at different addresses. Devices without a logical name
//!     (disabled NICs) are not candidates. The expression uses the syntax of the [`regex`]
//!     crate, which has no look-around and no back-references: such a pattern, like any
//!     invalid one, is an [`AliasError::InvalidPattern`].
//! * **Storage aliases** (a storage device named like an alias of the node's hardware profile,
//!   any bus type): the device whose `businfo` is `<bus_type>@<address>` (Drydock's XPath
//!   `.//node[businfo='<bus_type>@<address>']`, first match) gives the block device name
//!   (`scsi@2:0.0.0` ⇒ `/dev/sda` ⇒ `sda`). A `regexp:` address is refused for storage
//!   ([`AliasError::PatternNotSupported`]): Drydock would match it against network devices
//!   only, which never names a disk.
//! * Logical names are the last `/` component of the device's first `logicalname`.
//!
//! What the driver does when an alias is not found, and with two aliases naming one device, is
//! described in [`config`](super::config) and [`storage`](super::storage).
//!
//! ```
//! use drydock_driver_maas::details::lshw_devices;
//! use drydock_driver_maas::driver::alias::resolve_nic;
//! let xml = r#"<list>
//!   <node class="network"><businfo>pci@0000:01:00.0</businfo><logicalname>eno1</logicalname></node>
//!   <node class="network"><businfo>pci@0000:19:00.0</businfo><logicalname>eno3</logicalname></node>
//! </list>"#;
//! let devices = lshw_devices(xml).unwrap();
//! let nic = resolve_nic(&devices, "gen9", "nic01", r"regexp:0000:(19|01):00\.0").unwrap();
//! assert_eq!(nic.as_deref(), Some("eno1"));
//! assert!(resolve_nic(&devices, "gen9", "nic01", "regexp:(").is_err());
//! ```

use drydock_core::design::DeviceAlias;
use regex::Regex;

use crate::details::{LshwDevice, normalise_bus_address};

/// The prefix of an alias address that is a regular expression.
pub const REGEXP_PREFIX: &str = "regexp:";

/// Why a hardware-profile alias could not be resolved to a device name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AliasError {
    /// A `regexp:` address is not a valid regular expression.
    #[error(
        "hardware profile {profile}, alias {alias}: address regexp:{pattern} is not a valid regular expression: {reason}"
    )]
    InvalidPattern {
        /// The hardware profile.
        profile: String,
        /// The alias.
        alias: String,
        /// The expression (without `regexp:`).
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `regexp:` address where only bus addresses are supported (storage aliases).
    #[error(
        "hardware profile {profile}, alias {alias}: address regexp:{pattern} cannot name a storage device (regexp: addresses select network devices only)"
    )]
    PatternNotSupported {
        /// The hardware profile.
        profile: String,
        /// The alias.
        alias: String,
        /// The expression (without `regexp:`).
        pattern: String,
    },
    /// Neither the machine's commissioning data nor its MAAS names know the alias.
    #[error("hardware profile {profile}, alias {alias} (address {address}): {reason}")]
    Unresolved {
        /// The hardware profile.
        profile: String,
        /// The alias.
        alias: String,
        /// Its address as written.
        address: String,
        /// What was looked for and what the machine has.
        reason: String,
    },
    /// Two devices of the node's design resolve to one device of the machine.
    #[error(
        "hardware profile {profile}: {first} and {second} both resolve to {device}; a device can be configured only once"
    )]
    SameDevice {
        /// The hardware profile.
        profile: String,
        /// The first device as the design names it (an alias or a name).
        first: String,
        /// The second one.
        second: String,
        /// The machine's device both resolve to.
        device: String,
    },
}

/// The expression of a `regexp:` address, compiled; `Ok(None)` for a plain address.
fn pattern(profile: &str, alias: &str, address: &str) -> Result<Option<Regex>, AliasError> {
    let Some(p) = address.trim().strip_prefix(REGEXP_PREFIX) else {
        return Ok(None);
    };
    Regex::new(p)
        .map(Some)
        .map_err(|e| AliasError::InvalidPattern {
            profile: profile.to_owned(),
            alias: alias.to_owned(),
            pattern: p.to_owned(),
            reason: e.to_string(),
        })
}

/// Whether `re` matches `text` at its start (Python's `re.match`; the end is not anchored).
fn matches_at_start(re: &Regex, text: &str) -> bool {
    // The leftmost match starts at 0 whenever any match does.
    re.find(text).is_some_and(|m| m.start() == 0)
}

/// `businfo` without a `pci@` prefix (any case), as Drydock matches `regexp:` addresses.
fn without_pci_prefix(businfo: &str) -> &str {
    match businfo.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("pci@") => &businfo[4..],
        _ => businfo,
    }
}

/// The NIC a NIC alias of hardware profile `profile` names among the machine's lshw `devices`:
/// `Ok(None)` when no network device is at the address (or matches the expression).
///
/// Errors: an invalid `regexp:` expression ([`AliasError::InvalidPattern`]).
pub fn resolve_nic(
    devices: &[LshwDevice],
    profile: &str,
    alias: &str,
    address: &str,
) -> Result<Option<String>, AliasError> {
    let mut nics = devices.iter().filter(|d| d.is_network());
    let found = match pattern(profile, alias, address)? {
        Some(re) => nics.find(|d| matches_at_start(&re, without_pci_prefix(&d.businfo))),
        None => {
            let want = normalise_bus_address(address);
            nics.find(|d| normalise_bus_address(&d.businfo) == want)
        }
    };
    Ok(found.map(|d| d.logical_name.clone()))
}

/// The block device a storage alias `alias` (of hardware profile `profile`) names among the
/// machine's lshw `devices`: the first device of any class whose `businfo` is
/// `<bus_type>@<address>`; `Ok(None)` when there is none or the alias has no bus type.
///
/// Errors: a `regexp:` address ([`AliasError::PatternNotSupported`]).
///
/// ```
/// use drydock_core::design::DeviceAlias;
/// use drydock_driver_maas::details::lshw_devices;
/// use drydock_driver_maas::driver::alias::resolve_block_device;
/// let xml = r#"<list><node class="disk"><businfo>scsi@2:0.0.0</businfo>
///   <logicalname>/dev/sda</logicalname></node></list>"#;
/// let boot = DeviceAlias {
///     address: "2:0.0.0".into(),
///     dev_type: None,
///     bus_type: Some("scsi".into()),
///     extra: Default::default(),
/// };
/// let devices = lshw_devices(xml).unwrap();
/// let name = resolve_block_device(&devices, "gen9", "primary_boot", &boot).unwrap();
/// assert_eq!(name.as_deref(), Some("sda"));
/// ```
pub fn resolve_block_device(
    devices: &[LshwDevice],
    profile: &str,
    alias: &str,
    device: &DeviceAlias,
) -> Result<Option<String>, AliasError> {
    if let Some(p) = device.address.trim().strip_prefix(REGEXP_PREFIX) {
        return Err(AliasError::PatternNotSupported {
            profile: profile.to_owned(),
            alias: alias.to_owned(),
            pattern: p.to_owned(),
        });
    }
    let Some(bus) = device.bus_type.as_deref() else {
        return Ok(None);
    };
    Ok(devices
        .iter()
        .find(|d| d.is_at(bus, &device.address))
        .map(|d| d.logical_name.clone()))
}

/// Finds the first device claimed twice in `claims` — (as the design names it, the machine's
/// device, whether the design used an alias) — where at least one claim is an alias.
pub(crate) fn same_device(
    profile: &str,
    claims: &[(String, String, bool)],
) -> Result<(), AliasError> {
    for (i, (first, device, a)) in claims.iter().enumerate() {
        if let Some((second, _, _)) = claims[i + 1..]
            .iter()
            .find(|(_, d, b)| d == device && (*a || *b))
        {
            return Err(AliasError::SameDevice {
                profile: profile.to_owned(),
                first: first.clone(),
                second: second.clone(),
                device: device.clone(),
            });
        }
    }
    Ok(())
}

/// "eno1 at pci@0000:19:00.0, …" for messages; `none` when empty.
pub(crate) fn describe<'a>(devices: impl Iterator<Item = &'a LshwDevice>) -> String {
    let list: Vec<String> = devices
        .map(|d| format!("{} at {}", d.logical_name, d.businfo))
        .collect();
    if list.is_empty() {
        "none".to_owned()
    } else {
        list.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::details::lshw_devices;

    const XML: &str = r#"<list>
      <node class="network"><businfo>pci@0000:01:00.0</businfo></node>
      <node class="network"><businfo>pci@0000:01:00.1</businfo><logicalname>eno2</logicalname></node>
      <node class="network"><businfo>pci@0000:19:00.0</businfo><logicalname>eno3</logicalname></node>
      <node class="storage"><businfo>pci@0000:19:00.7</businfo><logicalname>scsi0</logicalname></node>
      <node class="disk"><businfo>scsi@2:0.0.0</businfo><logicalname>/dev/sdb</logicalname></node>
    </list>"#;

    fn alias(address: &str, bus: Option<&str>) -> DeviceAlias {
        DeviceAlias {
            address: address.into(),
            dev_type: None,
            bus_type: bus.map(str::to_owned),
            extra: Default::default(),
        }
    }

    #[test]
    fn regexp_is_anchored_at_the_start_only_and_skips_unnamed_nics() {
        let d = lshw_devices(XML).unwrap();
        let nic = |a: &str| resolve_nic(&d, "p", "a", a).unwrap();
        // 01:00.0 matches first but has no logical name (disabled).
        assert_eq!(nic(r"regexp:0000:01:00\.").as_deref(), Some("eno2"));
        assert_eq!(nic("regexp:0000:19").as_deref(), Some("eno3"));
        assert_eq!(nic("regexp:19:00"), None, "not anchored at the start");
        assert_eq!(
            nic("regexp:.*:00\\.7"),
            None,
            "a storage controller is no NIC"
        );
        assert_eq!(nic("regexp:pci@"), None, "the pci@ prefix is removed");
        assert_eq!(nic("19:00.0").as_deref(), Some("eno3"));
        assert_eq!(nic("0000:19:00.1"), None);
    }

    #[test]
    fn invalid_patterns_are_typed_errors() {
        let d = lshw_devices(XML).unwrap();
        for bad in ["regexp:(", "regexp:a(?=b)", r"regexp:(a)\1", "regexp:[z-a]"] {
            let e = resolve_nic(&d, "gen9", "nic01", bad).unwrap_err();
            let AliasError::InvalidPattern {
                profile,
                alias,
                pattern,
                ..
            } = &e
            else {
                panic!("{e:?}");
            };
            assert_eq!((profile.as_str(), alias.as_str()), ("gen9", "nic01"));
            assert_eq!(Some(pattern.as_str()), bad.strip_prefix("regexp:"));
            let msg = e.to_string();
            assert!(
                msg.contains("gen9") && msg.contains("nic01") && msg.contains(bad),
                "{msg}"
            );
        }
    }

    #[test]
    fn storage_aliases_follow_bus_type_and_address() {
        let d = lshw_devices(XML).unwrap();
        let blk = |a: DeviceAlias| resolve_block_device(&d, "p", "boot", &a);
        assert_eq!(
            blk(alias("2:0.0.0", Some("scsi"))).unwrap().as_deref(),
            Some("sdb")
        );
        assert_eq!(blk(alias("2:0.0.0", Some("pci"))).unwrap(), None);
        assert_eq!(blk(alias("2:0.0.0", None)).unwrap(), None);
        assert_eq!(blk(alias("3:0.0.0", Some("scsi"))).unwrap(), None);
        assert!(matches!(
            blk(alias("regexp:2:", Some("scsi"))),
            Err(AliasError::PatternNotSupported { .. })
        ));
    }

    #[test]
    fn a_device_claimed_twice_through_an_alias_is_refused() {
        let c = |n: &str, d: &str, a: bool| (n.to_owned(), d.to_owned(), a);
        assert!(same_device("p", &[c("lom0", "eno1", true), c("lom1", "eno2", true)]).is_ok());
        assert!(same_device("p", &[c("eth0", "eth0", false), c("eth0", "eth0", false)]).is_ok());
        let e = same_device("p", &[c("lom0", "eno1", true), c("eno1", "eno1", false)]).unwrap_err();
        assert_eq!(
            e,
            AliasError::SameDevice {
                profile: "p".into(),
                first: "lom0".into(),
                second: "eno1".into(),
                device: "eno1".into()
            }
        );
    }
}
