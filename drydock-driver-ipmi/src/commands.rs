//! The IPMI commands this crate uses: request encodings and typed response decoders.
//!
//! Each decoder takes the response data after the completion code.

use crate::error::ProtocolError;
use crate::message::netfn;
use crate::rakp::PrivilegeLevel;

/// A request ready to be framed: network function, command code and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Command name, for diagnostics.
    pub name: &'static str,
    /// Network function (request value).
    pub netfn: u8,
    /// Command code.
    pub cmd: u8,
    /// Request data.
    pub data: Vec<u8>,
}

impl Command {
    fn new(name: &'static str, netfn: u8, cmd: u8, data: Vec<u8>) -> Command {
        Command {
            name,
            netfn,
            cmd,
            data,
        }
    }

    /// Get Channel Authentication Capabilities (App 0x38) for the current channel, asking for
    /// IPMI 2.0 extended data.
    pub fn get_channel_auth_caps(privilege: PrivilegeLevel) -> Command {
        Command::new(
            "Get Channel Authentication Capabilities",
            netfn::APP,
            0x38,
            vec![0x8E, privilege.id()],
        )
    }

    /// Get Channel Cipher Suites (App 0x54), IPMI payload, listing by cipher suite, block `index`.
    pub fn get_channel_cipher_suites(index: u8) -> Command {
        Command::new(
            "Get Channel Cipher Suites",
            netfn::APP,
            0x54,
            vec![0x0E, 0x00, 0x80 | (index & 0x3F)],
        )
    }

    /// Set Session Privilege Level (App 0x3B).
    pub fn set_session_privilege(level: PrivilegeLevel) -> Command {
        Command::new(
            "Set Session Privilege Level",
            netfn::APP,
            0x3B,
            vec![level.id()],
        )
    }

    /// Close Session (App 0x3C) for the managed system session ID.
    ///
    /// ```
    /// use drydock_driver_ipmi::commands::Command;
    /// let c = Command::close_session(0x0000_3002);
    /// assert_eq!((c.netfn, c.cmd, c.data), (0x06, 0x3C, vec![0x02, 0x30, 0x00, 0x00]));
    /// ```
    pub fn close_session(bmc_session_id: u32) -> Command {
        Command::new(
            "Close Session",
            netfn::APP,
            0x3C,
            bmc_session_id.to_le_bytes().to_vec(),
        )
    }

    /// Get Device ID (App 0x01).
    pub fn get_device_id() -> Command {
        Command::new("Get Device ID", netfn::APP, 0x01, vec![])
    }

    /// Get Chassis Status (Chassis 0x01).
    pub fn get_chassis_status() -> Command {
        Command::new("Get Chassis Status", netfn::CHASSIS, 0x01, vec![])
    }

    /// Chassis Control (Chassis 0x02).
    pub fn chassis_control(action: PowerAction) -> Command {
        Command::new("Chassis Control", netfn::CHASSIS, 0x02, vec![action.id()])
    }

    /// Set System Boot Options (Chassis 0x08), parameter 5 (boot flags).
    ///
    /// ```
    /// use drydock_driver_ipmi::commands::{BootDevice, BootFlags, Command};
    /// let flags = BootFlags { device: BootDevice::Pxe, persistent: false, efi: true };
    /// assert_eq!(Command::set_boot_flags(flags).data, [0x05, 0xA0, 0x04, 0x00, 0x00, 0x00]);
    /// ```
    pub fn set_boot_flags(flags: BootFlags) -> Command {
        let mut data = vec![0x05];
        data.extend_from_slice(&flags.encode());
        Command::new("Set System Boot Options", netfn::CHASSIS, 0x08, data)
    }

    /// Get System Boot Options (Chassis 0x09), parameter 5 (boot flags).
    pub fn get_boot_flags() -> Command {
        Command::new(
            "Get System Boot Options",
            netfn::CHASSIS,
            0x09,
            vec![0x05, 0x00, 0x00],
        )
    }

    /// Get SEL Info (Storage 0x40).
    pub fn get_sel_info() -> Command {
        Command::new("Get SEL Info", netfn::STORAGE, 0x40, vec![])
    }
}

/// Get Channel Authentication Capabilities response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelAuthCaps {
    /// Channel number.
    pub channel: u8,
    /// IPMI 1.5 authentication types supported (bit field); bit 7 = extended capabilities.
    pub auth_types: u8,
    /// Status bits (per-message auth, user-level auth, anonymous login, ...).
    pub status: u8,
    /// Whether the channel supports IPMI 2.0 (RMCP+) connections.
    pub ipmi20: bool,
}

impl ChannelAuthCaps {
    /// Decodes the response data.
    ///
    /// ```
    /// use drydock_driver_ipmi::commands::ChannelAuthCaps;
    /// // ipmi_sim's answer in the captured session.
    /// let caps = ChannelAuthCaps::decode(&[0x01, 0x97, 0x06, 0x03, 0, 0, 0, 0]).unwrap();
    /// assert!(caps.ipmi20);
    /// ```
    pub fn decode(d: &[u8]) -> Result<ChannelAuthCaps, ProtocolError> {
        ProtocolError::need("Get Channel Authentication Capabilities", d, 8)?;
        Ok(ChannelAuthCaps {
            channel: d[0],
            auth_types: d[1],
            status: d[2],
            ipmi20: d[1] & 0x80 != 0 && d[3] & 0x02 != 0,
        })
    }
}

/// Decodes the cipher suite IDs from the concatenated record data of Get Channel Cipher Suites.
///
/// ```
/// use drydock_driver_ipmi::commands::decode_cipher_suite_records;
/// let ids = decode_cipher_suite_records(&[0xC0, 3, 0x01, 0x41, 0x81, 0xC0, 17, 0x03, 0x44, 0x81]).unwrap();
/// assert_eq!(ids, [3, 17]);
/// ```
pub fn decode_cipher_suite_records(d: &[u8]) -> Result<Vec<u8>, ProtocolError> {
    let mut ids = Vec::new();
    let mut i = 0;
    while i < d.len() {
        let skip = match d[i] {
            0xC0 => 2,
            0xC1 => 5,
            other => {
                return Err(ProtocolError::InvalidField {
                    what: "cipher suite record",
                    value: other.into(),
                });
            }
        };
        let id = *d.get(i + 1).ok_or(ProtocolError::truncated(
            "cipher suite record",
            i + 2,
            d.len(),
        ))?;
        ids.push(id);
        i += skip;
        // Algorithm bytes: top two bits 00 (auth), 01 (integrity) or 10 (confidentiality).
        while i < d.len() && d[i] & 0xC0 != 0xC0 {
            i += 1;
        }
    }
    Ok(ids)
}

/// Get Device ID response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceId {
    /// Device ID.
    pub device_id: u8,
    /// Device revision (low 4 bits).
    pub device_revision: u8,
    /// Firmware major revision.
    pub firmware_major: u8,
    /// Firmware minor revision (BCD).
    pub firmware_minor: u8,
    /// IPMI version (BCD: 0x51 = 1.5, 0x02 = 2.0).
    pub ipmi_version: u8,
    /// Additional device support bits.
    pub additional_support: u8,
    /// Manufacturer IANA number (20 bits).
    pub manufacturer_id: u32,
    /// Product ID.
    pub product_id: u16,
}

impl DeviceId {
    /// Decodes the response data.
    pub fn decode(d: &[u8]) -> Result<DeviceId, ProtocolError> {
        ProtocolError::need("Get Device ID", d, 11)?;
        Ok(DeviceId {
            device_id: d[0],
            device_revision: d[1] & 0x0F,
            firmware_major: d[2] & 0x7F,
            firmware_minor: d[3],
            ipmi_version: d[4],
            additional_support: d[5],
            manufacturer_id: u32::from_le_bytes([d[6], d[7], d[8] & 0x0F, 0]),
            product_id: u16::from_le_bytes([d[9], d[10]]),
        })
    }
}

/// Chassis power state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PowerState {
    /// System power is on.
    On,
    /// System power is off (soft-off or mechanical off).
    Off,
}

impl PowerState {
    /// Lower-case name (`"on"`, `"off"`).
    pub fn as_str(self) -> &'static str {
        match self {
            PowerState::On => "on",
            PowerState::Off => "off",
        }
    }
}

/// Get Chassis Status response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChassisStatus {
    /// Current power state.
    pub power: PowerState,
    /// Raw "current power state" byte.
    pub current_power_state: u8,
    /// Raw "last power event" byte.
    pub last_power_event: u8,
    /// Raw "misc. chassis state" byte.
    pub misc_chassis_state: u8,
}

impl ChassisStatus {
    /// Decodes the response data.
    ///
    /// ```
    /// use drydock_driver_ipmi::commands::{ChassisStatus, PowerState};
    /// assert_eq!(ChassisStatus::decode(&[0x01, 0, 0]).unwrap().power, PowerState::On);
    /// assert!(ChassisStatus::decode(&[0x01]).is_err());
    /// ```
    pub fn decode(d: &[u8]) -> Result<ChassisStatus, ProtocolError> {
        ProtocolError::need("Get Chassis Status", d, 3)?;
        Ok(ChassisStatus {
            power: if d[0] & 0x01 != 0 {
                PowerState::On
            } else {
                PowerState::Off
            },
            current_power_state: d[0],
            last_power_event: d[1],
            misc_chassis_state: d[2],
        })
    }
}

/// Chassis Control actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PowerAction {
    /// Power down (hard off).
    Off,
    /// Power up.
    On,
    /// Power cycle (off, then on after a delay).
    Cycle,
    /// Hard reset.
    HardReset,
    /// Pulse a diagnostic interrupt (NMI).
    DiagnosticInterrupt,
    /// Soft shutdown via ACPI.
    SoftOff,
}

impl PowerAction {
    /// Wire value.
    pub fn id(self) -> u8 {
        match self {
            PowerAction::Off => 0,
            PowerAction::On => 1,
            PowerAction::Cycle => 2,
            PowerAction::HardReset => 3,
            PowerAction::DiagnosticInterrupt => 4,
            PowerAction::SoftOff => 5,
        }
    }
}

/// Boot device selector of the boot flags parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BootDevice {
    /// No override.
    None,
    /// Network (PXE).
    Pxe,
    /// Default hard disk.
    Disk,
    /// Hard disk, safe mode.
    DiskSafeMode,
    /// Diagnostic partition.
    Diagnostic,
    /// CD/DVD.
    Cdrom,
    /// BIOS setup.
    BiosSetup,
    /// Remote floppy / primary removable media.
    Floppy,
    /// Any other selector value (4 bits).
    Other(u8),
}

impl BootDevice {
    /// The 4-bit selector.
    pub fn selector(self) -> u8 {
        match self {
            BootDevice::None => 0x0,
            BootDevice::Pxe => 0x1,
            BootDevice::Disk => 0x2,
            BootDevice::DiskSafeMode => 0x3,
            BootDevice::Diagnostic => 0x4,
            BootDevice::Cdrom => 0x5,
            BootDevice::BiosSetup => 0x6,
            BootDevice::Floppy => 0xF,
            BootDevice::Other(v) => v & 0x0F,
        }
    }

    /// Device for a 4-bit selector.
    pub fn from_selector(v: u8) -> BootDevice {
        match v & 0x0F {
            0x0 => BootDevice::None,
            0x1 => BootDevice::Pxe,
            0x2 => BootDevice::Disk,
            0x3 => BootDevice::DiskSafeMode,
            0x4 => BootDevice::Diagnostic,
            0x5 => BootDevice::Cdrom,
            0x6 => BootDevice::BiosSetup,
            0xF => BootDevice::Floppy,
            other => BootDevice::Other(other),
        }
    }

    /// Lower-case name (`"pxe"`, `"disk"`, `"bios"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            BootDevice::None => "none",
            BootDevice::Pxe => "pxe",
            BootDevice::Disk => "disk",
            BootDevice::DiskSafeMode => "safe",
            BootDevice::Diagnostic => "diag",
            BootDevice::Cdrom => "cdrom",
            BootDevice::BiosSetup => "bios",
            BootDevice::Floppy => "floppy",
            BootDevice::Other(_) => "other",
        }
    }
}

/// The boot flags parameter (boot option parameter 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BootFlags {
    /// Device to boot from.
    pub device: BootDevice,
    /// Apply to all future boots (otherwise the next boot only).
    pub persistent: bool,
    /// EFI boot (otherwise legacy PC-compatible).
    pub efi: bool,
}

impl BootFlags {
    /// The 5 data bytes, with the "valid" bit set.
    pub fn encode(&self) -> [u8; 5] {
        let b1 = 0x80 | u8::from(self.persistent) << 6 | u8::from(self.efi) << 5;
        [b1, self.device.selector() << 2, 0, 0, 0]
    }

    /// Decodes a Get System Boot Options response for parameter 5 (version, parameter, data).
    ///
    /// The "valid" bit is not required: `ipmi_sim` never sets it.
    pub fn decode_response(d: &[u8]) -> Result<BootFlags, ProtocolError> {
        ProtocolError::need("Get System Boot Options (boot flags)", d, 4)?;
        if d[1] & 0x7F != 0x05 {
            return Err(ProtocolError::InvalidField {
                what: "boot option parameter",
                value: d[1].into(),
            });
        }
        let data = &d[2..];
        Ok(BootFlags {
            device: BootDevice::from_selector(data[1] >> 2),
            persistent: data[0] & 0x40 != 0,
            efi: data[0] & 0x20 != 0,
        })
    }
}

/// Get SEL Info response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelInfo {
    /// SEL version (BCD, 0x51).
    pub version: u8,
    /// Number of log entries.
    pub entries: u16,
    /// Free space in bytes.
    pub free_bytes: u16,
    /// Timestamp of the most recent addition.
    pub last_add_time: u32,
    /// Timestamp of the most recent erase.
    pub last_erase_time: u32,
    /// Operation support bits (bit 7: overflow).
    pub operation_support: u8,
}

impl SelInfo {
    /// Decodes the response data.
    pub fn decode(d: &[u8]) -> Result<SelInfo, ProtocolError> {
        ProtocolError::need("Get SEL Info", d, 14)?;
        Ok(SelInfo {
            version: d[0],
            entries: u16::from_le_bytes([d[1], d[2]]),
            free_bytes: u16::from_le_bytes([d[3], d[4]]),
            last_add_time: u32::from_le_bytes([d[5], d[6], d[7], d[8]]),
            last_erase_time: u32::from_le_bytes([d[9], d[10], d[11], d[12]]),
            operation_support: d[13],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn captured_device_id() {
        let d = [
            0x00, 0x03, 0x09, 0x08, 0x02, 0x9F, 0x91, 0x12, 0x00, 0x02, 0x0F, 0, 0, 0, 0,
        ];
        let id = DeviceId::decode(&d).unwrap();
        assert_eq!(
            (id.manufacturer_id, id.product_id, id.firmware_major),
            (0x1291, 0x0F02, 9)
        );
    }

    proptest! {
        #[test]
        fn decoders_never_panic(d in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = ChannelAuthCaps::decode(&d);
            let _ = decode_cipher_suite_records(&d);
            let _ = DeviceId::decode(&d);
            let _ = ChassisStatus::decode(&d);
            let _ = BootFlags::decode_response(&d);
            let _ = SelInfo::decode(&d);
        }

        #[test]
        fn boot_flags_round_trip(sel in 0u8..16, persistent: bool, efi: bool) {
            let flags = BootFlags { device: BootDevice::from_selector(sel), persistent, efi };
            let mut rs = vec![0x01, 0x05];
            rs.extend_from_slice(&flags.encode());
            prop_assert_eq!(BootFlags::decode_response(&rs).unwrap(), flags);
            prop_assert_eq!(BootDevice::from_selector(flags.device.selector()), flags.device);
        }
    }
}
