//! Typed hardware facts: what a driver could read of a machine, for verification against the
//! design.
//!
//! Every field is optional or a list that may be absent: `None` means "this driver could not
//! read it" (a check of that fact can only warn), while `Some(vec![])` means "read, and there is
//! none" (a check can fail). Drivers fill what their protocol offers: IPMI gives identity (FRU,
//! GUID), sensors, the event log and chassis faults; Redfish adds the BIOS version, processors,
//! memory, drives, PCIe devices and NICs; a provisioner's commissioning output (lshw, LLDP) gives
//! the full inventory and the links.
//!
//! ```
//! use drydock_core::driver::{HardwareFacts, Nic, Severity};
//! let mut facts = HardwareFacts::default();
//! facts.bios_version = Some("U30 v2.80".into());
//! facts.nics = Some(vec![Nic {
//!     name: Some("eno1".into()),
//!     mac: Some("52:54:00:12:34:56".into()),
//!     pci_address: Some("0000:18:00.0".into()),
//!     ..Nic::default()
//! }]);
//! assert!(facts.nic_at_pci("0000:18:00.0").is_some());
//! assert_eq!(facts.worst_event_severity(), None); // the event log was not read
//! # let _ = Severity::Critical;
//! ```

use serde::{Deserialize, Serialize};

/// What a driver read of one machine. Merge the facts of several drivers with
/// [`HardwareFacts::merge`].
///
/// Start from `HardwareFacts::default()` and set what was read; the parts (`Nic`, `Drive`, ...)
/// are built with `..Default::default()` so that fields added later do not break drivers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct HardwareFacts {
    /// Maker, model and serial number of the system.
    pub identity: SystemIdentity,
    /// The system firmware (BIOS/UEFI) version.
    pub bios_version: Option<String>,
    /// Versions of other firmware (BMC, NICs, drives, ...).
    pub firmware: Option<Vec<Firmware>>,
    /// Processors (sockets).
    pub processors: Option<Vec<Processor>>,
    /// Total memory in MiB.
    pub memory_mib: Option<u64>,
    /// PCI(e) devices.
    pub pci_devices: Option<Vec<PciDevice>>,
    /// Network interfaces.
    pub nics: Option<Vec<Nic>>,
    /// Block storage devices.
    pub drives: Option<Vec<Drive>>,
    /// The overall health the BMC reports.
    pub health: Option<Health>,
    /// Sensor readings with their threshold state.
    pub sensors: Option<Vec<Sensor>>,
    /// Entries of the hardware event log (IPMI SEL, Redfish log services).
    pub events: Option<Vec<LogEvent>>,
    /// Chassis fault indications (IPMI chassis status bits: power fault, cooling fault, drive
    /// fault, power overload, interlock).
    pub chassis_faults: Option<Vec<String>>,
}

/// Who made the system and which one it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SystemIdentity {
    /// Manufacturer (`HPE`, `Dell Inc.`).
    pub manufacturer: Option<String>,
    /// Product or model name (`ProLiant DL380 Gen10`).
    pub model: Option<String>,
    /// Product version or hardware revision.
    pub version: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// The system's GUID/UUID, lower case with dashes.
    pub guid: Option<String>,
}

/// One firmware component and its version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Firmware {
    /// The component (`BMC`, `NIC 0000:18:00.0`).
    pub component: String,
    /// Its version.
    pub version: String,
}

/// One processor socket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Processor {
    /// Socket label (`CPU1`).
    pub socket: Option<String>,
    /// Model name.
    pub model: Option<String>,
    /// Physical cores.
    pub cores: Option<u32>,
    /// Hardware threads (logical CPUs).
    pub threads: Option<u32>,
}

/// One PCI device.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PciDevice {
    /// Bus address, `domain:bus:device.function` (`0000:18:00.0`), lower case.
    pub address: String,
    /// Device class (`network`, `storage`, `display`, or the class code as hex).
    pub class: Option<String>,
    /// Vendor id (hex, `8086`).
    pub vendor_id: Option<String>,
    /// Device id (hex).
    pub device_id: Option<String>,
    /// Human description (`Ethernet Controller X710`).
    pub description: Option<String>,
}

/// One network interface.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Nic {
    /// OS or BMC name (`eno1`, `NIC.Integrated.1-1`).
    pub name: Option<String>,
    /// MAC address, lower case with colons.
    pub mac: Option<String>,
    /// PCI address of the function, when known.
    pub pci_address: Option<String>,
    /// Whether the link is up.
    pub link_up: Option<bool>,
    /// Negotiated speed in Mbit/s.
    pub speed_mbps: Option<u64>,
    /// The switch port at the other end (LLDP), when reported.
    pub lldp: Option<LldpNeighbor>,
}

/// What LLDP says about the other end of a link.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LldpNeighbor {
    /// The neighbour's chassis id.
    pub chassis_id: Option<String>,
    /// The neighbour's port id.
    pub port_id: Option<String>,
    /// The neighbour's system name.
    pub system_name: Option<String>,
}

/// One block storage device.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Drive {
    /// OS or BMC name (`sda`, `Disk.Bay.0`).
    pub name: Option<String>,
    /// Bus address as design aliases name it (`2:0.0.0` for SCSI, a PCI address for NVMe).
    pub bus_address: Option<String>,
    /// Bus type (`scsi`, `pci`, `sata`, `nvme`).
    pub bus_type: Option<String>,
    /// Capacity in bytes.
    pub size_bytes: Option<u64>,
    /// Model.
    pub model: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
}

/// A health or severity level, in increasing order of concern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Normal.
    Ok,
    /// Needs attention, still working.
    Warning,
    /// Failed or about to.
    Critical,
}

/// The severity of an event log entry or a sensor state.
pub type Severity = Health;

/// One sensor reading.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sensor {
    /// Sensor name (`CPU1 Temp`).
    pub name: String,
    /// What it measures (`temperature`, `fan`, `voltage`, ...).
    pub kind: Option<String>,
    /// The reading in `unit`, for threshold sensors.
    pub value: Option<f64>,
    /// Unit of `value` (`degrees C`, `RPM`, `Volts`).
    pub unit: Option<String>,
    /// The state against its thresholds; `None` when the sensor has no thresholds or none
    /// was read.
    pub state: Option<Severity>,
}

/// One hardware event log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEvent {
    /// How serious it is.
    pub severity: Severity,
    /// What happened, for people.
    pub message: String,
    /// When, as the BMC reports it (RFC 3339 where it can).
    pub timestamp: Option<String>,
    /// The sensor or component it concerns.
    pub source: Option<String>,
}

impl LogEvent {
    /// An entry of `severity` saying `message`.
    pub fn new(severity: Severity, message: impl Into<String>) -> Self {
        LogEvent {
            severity,
            message: message.into(),
            timestamp: None,
            source: None,
        }
    }
}

impl HardwareFacts {
    /// Fills every fact this one lacks from `other` (what this one has wins).
    pub fn merge(&mut self, other: HardwareFacts) {
        fn fill<T>(a: &mut Option<T>, b: Option<T>) {
            if a.is_none() {
                *a = b;
            }
        }
        let id = other.identity;
        fill(&mut self.identity.manufacturer, id.manufacturer);
        fill(&mut self.identity.model, id.model);
        fill(&mut self.identity.version, id.version);
        fill(&mut self.identity.serial, id.serial);
        fill(&mut self.identity.guid, id.guid);
        fill(&mut self.bios_version, other.bios_version);
        fill(&mut self.firmware, other.firmware);
        fill(&mut self.processors, other.processors);
        fill(&mut self.memory_mib, other.memory_mib);
        fill(&mut self.pci_devices, other.pci_devices);
        fill(&mut self.nics, other.nics);
        fill(&mut self.drives, other.drives);
        fill(&mut self.health, other.health);
        fill(&mut self.sensors, other.sensors);
        fill(&mut self.events, other.events);
        fill(&mut self.chassis_faults, other.chassis_faults);
    }

    /// Whether no fact at all was read.
    pub fn is_empty(&self) -> bool {
        *self == HardwareFacts::default()
    }

    /// The NIC whose PCI address is `address` (compared without case).
    pub fn nic_at_pci(&self, address: &str) -> Option<&Nic> {
        self.nics.as_ref()?.iter().find(|n| {
            n.pci_address
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(address))
        })
    }

    /// The drive whose bus address is `address` (compared without case).
    pub fn drive_at(&self, address: &str) -> Option<&Drive> {
        self.drives.as_ref()?.iter().find(|d| {
            d.bus_address
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(address))
        })
    }

    /// The PCI device at `address` (compared without case).
    pub fn pci_at(&self, address: &str) -> Option<&PciDevice> {
        self.pci_devices
            .as_ref()?
            .iter()
            .find(|d| d.address.eq_ignore_ascii_case(address))
    }

    /// Logical CPUs: the sum of the processors' threads (or cores where threads are unknown);
    /// `None` when the processors were not read or a count is missing.
    pub fn logical_cpus(&self) -> Option<u32> {
        self.processors
            .as_ref()?
            .iter()
            .map(|p| p.threads.or(p.cores))
            .sum()
    }

    /// The most serious severity in the event log; `None` when it was not read or is empty.
    pub fn worst_event_severity(&self) -> Option<Severity> {
        self.events.as_ref()?.iter().map(|e| e.severity).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_own_facts_and_fills_missing_ones() {
        let mut a = HardwareFacts {
            bios_version: Some("2.80".into()),
            ..HardwareFacts::default()
        };
        let b = HardwareFacts {
            bios_version: Some("9.99".into()),
            memory_mib: Some(65536),
            events: Some(vec![]),
            ..HardwareFacts::default()
        };
        a.merge(b);
        assert_eq!(a.bios_version.as_deref(), Some("2.80"));
        assert_eq!(a.memory_mib, Some(65536));
        assert_eq!(a.events, Some(vec![]));
        assert!(!a.is_empty());
        assert!(HardwareFacts::default().is_empty());
    }

    #[test]
    fn lookups_and_summaries() {
        let facts = HardwareFacts {
            processors: Some(vec![
                Processor {
                    cores: Some(8),
                    threads: Some(16),
                    ..Processor::default()
                },
                Processor {
                    cores: Some(8),
                    ..Processor::default()
                },
            ]),
            drives: Some(vec![Drive {
                bus_address: Some("2:0.0.0".into()),
                size_bytes: Some(1 << 40),
                ..Drive::default()
            }]),
            events: Some(vec![
                LogEvent::new(Severity::Warning, "fan 2 slow"),
                LogEvent::new(Severity::Ok, "log cleared"),
            ]),
            ..HardwareFacts::default()
        };
        assert_eq!(facts.logical_cpus(), Some(24));
        assert_eq!(facts.drive_at("2:0.0.0").unwrap().size_bytes, Some(1 << 40));
        assert!(facts.drive_at("3:0.0.0").is_none());
        assert!(facts.pci_at("0000:00:03.0").is_none());
        assert_eq!(facts.worst_event_severity(), Some(Severity::Warning));
        let unknown_count = HardwareFacts {
            processors: Some(vec![Processor::default()]),
            ..HardwareFacts::default()
        };
        assert_eq!(unknown_count.logical_cpus(), None);
    }

    #[test]
    fn json_round_trip_and_missing_fields_default() {
        let facts = HardwareFacts {
            health: Some(Health::Critical),
            sensors: Some(vec![Sensor {
                name: "CPU1 Temp".into(),
                value: Some(91.0),
                state: Some(Severity::Critical),
                ..Sensor::default()
            }]),
            ..HardwareFacts::default()
        };
        let text = serde_json::to_string(&facts).unwrap();
        assert_eq!(serde_json::from_str::<HardwareFacts>(&text).unwrap(), facts);
        let partial: HardwareFacts = serde_json::from_str(r#"{"memory_mib": 1024}"#).unwrap();
        assert_eq!(partial.memory_mib, Some(1024));
    }
}
