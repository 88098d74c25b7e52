//! MAAS' `op=details` document and the `lshw` XML inside it.
//!
//! `GET machines/{system_id}/?op=details` answers a BSON document whose values are binaries:
//! `lshw` (the XML of `lshw -xml` from commissioning), `lldp`, …. [`parse_details`] reads the
//! top level of such a document with a small reader that checks every length against the input
//! (bad input is a [`DetailsError`], never a panic); [`lshw_devices`] lists the devices of the
//! lshw XML with their bus addresses and logical (kernel) names, which is how Drydock turns
//! hardware-profile aliases (`lom0: {address: '0000:19:00.0'}`, `primary_boot: {address:
//! '2:0.0.0', bus_type: scsi}`) into interface and disk names (see
//! [`crate::driver::alias`]); [`lshw_nics`] maps the bus addresses of the network devices to
//! their names.
//!
//! ```
//! use drydock_driver_maas::details::{lshw_nics, normalise_bus_address};
//! let xml = r#"<list><node id="network" class="network">
//!   <businfo>pci@0000:19:00.0</businfo><logicalname>eno1</logicalname></node></list>"#;
//! let nics = lshw_nics(xml).unwrap();
//! assert_eq!(nics[&normalise_bus_address("0000:19:00.0")], "eno1");
//! ```

use std::collections::BTreeMap;

/// Why a details document or its lshw XML could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DetailsError {
    /// The BSON document is malformed.
    #[error("malformed BSON at byte {offset}: {reason}")]
    Bson {
        /// Where the reader stopped.
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// The lshw data is not well-formed XML (or not UTF-8).
    #[error("malformed lshw XML: {0}")]
    Xml(String),
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn err(&self, reason: &'static str) -> DetailsError {
        DetailsError::Bson {
            offset: self.pos,
            reason,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DetailsError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| self.err("value runs past the end of the document"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, DetailsError> {
        Ok(self.take(1)?[0])
    }

    fn len(&mut self) -> Result<usize, DetailsError> {
        let b = self.take(4)?;
        let n = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        usize::try_from(n).map_err(|_| self.err("negative length"))
    }

    fn cstring(&mut self) -> Result<&'a [u8], DetailsError> {
        let rest = &self.buf[self.pos..];
        let nul = rest
            .iter()
            .position(|b| *b == 0)
            .ok_or_else(|| self.err("unterminated name"))?;
        let s = &rest[..nul];
        self.pos += nul + 1;
        Ok(s)
    }

    /// A length-prefixed string (`int32 len`, bytes, NUL).
    fn string(&mut self) -> Result<&'a [u8], DetailsError> {
        let n = self.len()?;
        if n == 0 {
            return Err(self.err("string length 0"));
        }
        let s = self.take(n)?;
        match s.split_last() {
            Some((0, body)) => Ok(body),
            _ => Err(self.err("string not NUL-terminated")),
        }
    }

    /// An embedded document/array or code-with-scope: its length counts its own 4 bytes.
    fn skip_sized(&mut self) -> Result<(), DetailsError> {
        let n = self.len()?;
        if n < 5 {
            return Err(self.err("embedded document too short"));
        }
        self.take(n - 4).map(drop)
    }
}

/// Reads the top level of a BSON document: each binary or string value by key (other value
/// types are checked and skipped). A later duplicate key wins.
pub fn parse_details(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, DetailsError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let total = r.len()?;
    if total < 5 || total != bytes.len() {
        return Err(DetailsError::Bson {
            offset: 0,
            reason: "document length does not match the body",
        });
    }
    // Everything but the final NUL.
    let mut r = Reader {
        buf: &bytes[..total - 1],
        pos: 4,
    };
    if bytes[total - 1] != 0 {
        return Err(DetailsError::Bson {
            offset: total - 1,
            reason: "document not NUL-terminated",
        });
    }
    let mut out = BTreeMap::new();
    while r.pos < r.buf.len() {
        let kind = r.byte()?;
        let key = String::from_utf8_lossy(r.cstring()?).into_owned();
        let value = match kind {
            0x01 | 0x09 | 0x11 | 0x12 => r.take(8).map(|_| None)?,
            0x02 | 0x0D | 0x0E => Some(r.string()?.to_vec()),
            0x03 | 0x04 | 0x0F => r.skip_sized().map(|()| None)?,
            0x05 => {
                let n = r.len()?;
                let subtype = r.byte()?;
                let data = r.take(n)?;
                // Subtype 2 (old binary) repeats the length inside.
                let data = match (subtype, data) {
                    (0x02, [a, b, c, d, rest @ ..])
                        if usize::try_from(i32::from_le_bytes([*a, *b, *c, *d]))
                            .is_ok_and(|m| m == rest.len()) =>
                    {
                        rest
                    }
                    (0x02, _) => return Err(r.err("old binary with a bad inner length")),
                    _ => data,
                };
                Some(data.to_vec())
            }
            0x06 | 0x0A | 0x7F | 0xFF => None,
            0x07 => r.take(12).map(|_| None)?,
            0x08 => r.take(1).map(|_| None)?,
            0x0B => {
                r.cstring()?;
                r.cstring().map(|_| None)?
            }
            0x0C => {
                r.string()?;
                r.take(12).map(|_| None)?
            }
            0x10 => r.take(4).map(|_| None)?,
            0x13 => r.take(16).map(|_| None)?,
            _ => return Err(r.err("unknown element type")),
        };
        if let Some(v) = value {
            out.insert(key, v);
        }
    }
    Ok(out)
}

/// A bus address as a map key: lower case, without a `<bus>@` prefix (`pci@`), a PCI address
/// without a domain (`19:00.0`) in domain 0000.
pub fn normalise_bus_address(address: &str) -> String {
    let a = address.trim().to_ascii_lowercase();
    let a = a.split_once('@').map_or(a.as_str(), |(_, r)| r);
    let short_pci = a.len() == 7
        && a.as_bytes()[2] == b':'
        && a.as_bytes()[5] == b'.'
        && a.chars().filter(|c| c.is_ascii_hexdigit()).count() == 5;
    if short_pci {
        format!("0000:{a}")
    } else {
        a.to_owned()
    }
}

/// A device of an lshw document that has a bus address and a logical name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LshwDevice {
    /// The node's `class` attribute (`network`, `disk`, `storage`, …; empty when absent).
    pub class: String,
    /// Its `businfo` as written (`pci@0000:19:00.0`, `scsi@2:0.0.0`), trimmed.
    pub businfo: String,
    /// The last `/` component of its first `logicalname` (`/dev/sda` ⇒ `sda`).
    pub logical_name: String,
}

impl LshwDevice {
    /// Whether this is a network device (`class="network"`).
    pub fn is_network(&self) -> bool {
        self.class == "network"
    }

    /// Whether the device sits at `address` on bus `bus_type` (`scsi`, `pci`): the bus prefix
    /// of `businfo` compared without regard to case, the addresses after
    /// [`normalise_bus_address`].
    pub fn is_at(&self, bus_type: &str, address: &str) -> bool {
        match self.businfo.split_once('@') {
            Some((bus, _)) => {
                bus.eq_ignore_ascii_case(bus_type.trim())
                    && normalise_bus_address(&self.businfo) == normalise_bus_address(address)
            }
            None => false,
        }
    }
}

/// Every device (`<node>` element, any class, at any depth) of an lshw XML document that has
/// both a `businfo` and a `logicalname`, in document order.
pub fn lshw_devices(xml: &str) -> Result<Vec<LshwDevice>, DetailsError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| DetailsError::Xml(e.to_string()))?;
    let child_text = |n: roxmltree::Node<'_, '_>, tag: &str| {
        n.children()
            .find(|c| c.has_tag_name(tag))
            .and_then(|c| c.text())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    let devices = doc
        .descendants()
        .filter(|n| n.has_tag_name("node"))
        .filter_map(|n| {
            let businfo = child_text(n, "businfo")?;
            let name = child_text(n, "logicalname")?;
            let logical_name = name.rsplit('/').next().unwrap_or(&name).to_owned();
            (!logical_name.is_empty()).then(|| LshwDevice {
                class: n.attribute("class").unwrap_or_default().to_owned(),
                businfo,
                logical_name,
            })
        })
        .collect();
    Ok(devices)
}

/// The network devices of an lshw XML document: normalised bus address
/// ([`normalise_bus_address`]) → logical name (the last `/` component of the first
/// `logicalname`). Devices without a bus address or logical name are left out; the first device
/// at an address wins.
pub fn lshw_nics(xml: &str) -> Result<BTreeMap<String, String>, DetailsError> {
    let mut out = BTreeMap::new();
    for d in lshw_devices(xml)?
        .into_iter()
        .filter(LshwDevice::is_network)
    {
        out.entry(normalise_bus_address(&d.businfo))
            .or_insert(d.logical_name);
    }
    Ok(out)
}

/// The lshw devices ([`lshw_devices`]) of a machine from its raw `op=details` document: no
/// `lshw` key (a machine never commissioned) is an empty list.
pub fn details_devices(bytes: &[u8]) -> Result<Vec<LshwDevice>, DetailsError> {
    match parse_details(bytes)?.get("lshw") {
        None => Ok(Vec::new()),
        Some(x) => {
            let xml =
                std::str::from_utf8(x).map_err(|e| DetailsError::Xml(format!("not UTF-8: {e}")))?;
            lshw_devices(xml)
        }
    }
}

/// The NICs of a machine from its raw `op=details` document: no `lshw` key (a machine never
/// commissioned) is an empty map.
pub fn details_nics(bytes: &[u8]) -> Result<BTreeMap<String, String>, DetailsError> {
    match parse_details(bytes)?.get("lshw") {
        None => Ok(BTreeMap::new()),
        Some(x) => {
            let xml =
                std::str::from_utf8(x).map_err(|e| DetailsError::Xml(format!("not UTF-8: {e}")))?;
            lshw_nics(xml)
        }
    }
}

/// Builds a BSON document whose values are generic binaries (subtype 0), as MAAS sends
/// `op=details`. Used by the fake and by tests.
pub fn binary_document(fields: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.push(0x05);
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(&(v.len() as i32).to_le_bytes());
        body.push(0x00);
        body.extend_from_slice(v);
    }
    body.push(0);
    let mut doc = ((body.len() + 4) as i32).to_le_bytes().to_vec();
    doc.extend(body);
    doc
}

#[cfg(test)]
mod tests;
