//! RMCP header (ASF 2.0 §3.2.2) and ASF presence ping/pong.

use crate::error::ProtocolError;

/// RMCP version 1.0 as carried in the header.
pub const RMCP_VERSION: u8 = 0x06;
/// RMCP sequence number meaning "no RMCP ACK" (always used for IPMI).
pub const RMCP_SEQ_NO_ACK: u8 = 0xFF;
/// The ASF IANA enterprise number (4542), big-endian on the wire.
pub const ASF_IANA: u32 = 0x0000_11BE;
/// Length of the RMCP header.
pub const RMCP_HEADER_LEN: usize = 4;

const ASF_PING: u8 = 0x80;
const ASF_PONG: u8 = 0x40;

/// Message class of an RMCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RmcpClass {
    /// ASF (presence ping/pong).
    Asf,
    /// IPMI.
    Ipmi,
}

impl RmcpClass {
    fn byte(self) -> u8 {
        match self {
            RmcpClass::Asf => 0x06,
            RmcpClass::Ipmi => 0x07,
        }
    }
}

/// The 4-byte RMCP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RmcpHeader {
    /// RMCP sequence number (0xFF for IPMI).
    pub sequence: u8,
    /// Message class.
    pub class: RmcpClass,
}

impl RmcpHeader {
    /// Header of an IPMI packet.
    pub const IPMI: RmcpHeader = RmcpHeader {
        sequence: RMCP_SEQ_NO_ACK,
        class: RmcpClass::Ipmi,
    };

    /// Encodes the header.
    pub fn encode(self) -> [u8; RMCP_HEADER_LEN] {
        [RMCP_VERSION, 0x00, self.sequence, self.class.byte()]
    }

    /// Splits a datagram into its RMCP header and the rest.
    ///
    /// ```
    /// use drydock_driver_ipmi::rmcp::{RmcpClass, RmcpHeader};
    /// let (h, rest) = RmcpHeader::decode(&[0x06, 0x00, 0xFF, 0x07, 0xAA]).unwrap();
    /// assert_eq!(h.class, RmcpClass::Ipmi);
    /// assert_eq!(rest, &[0xAA]);
    /// assert!(RmcpHeader::decode(&[0x05, 0x00, 0xFF, 0x07]).is_err());
    /// ```
    pub fn decode(bytes: &[u8]) -> Result<(RmcpHeader, &[u8]), ProtocolError> {
        ProtocolError::need("RMCP header", bytes, RMCP_HEADER_LEN)?;
        if bytes[0] != RMCP_VERSION {
            return Err(ProtocolError::InvalidField {
                what: "RMCP version",
                value: bytes[0].into(),
            });
        }
        // The class byte's bit 7 marks an RMCP ACK; IPMI never uses them.
        let class = match bytes[3] {
            0x06 => RmcpClass::Asf,
            0x07 => RmcpClass::Ipmi,
            other => {
                return Err(ProtocolError::InvalidField {
                    what: "RMCP class",
                    value: other.into(),
                });
            }
        };
        Ok((
            RmcpHeader {
                sequence: bytes[2],
                class,
            },
            &bytes[RMCP_HEADER_LEN..],
        ))
    }
}

/// An ASF presence ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsfPing {
    /// Message tag echoed by the pong.
    pub tag: u8,
}

impl AsfPing {
    /// Encodes the whole datagram (RMCP header included).
    pub fn encode(self) -> Vec<u8> {
        let mut out = RmcpHeader {
            sequence: RMCP_SEQ_NO_ACK,
            class: RmcpClass::Asf,
        }
        .encode()
        .to_vec();
        out.extend_from_slice(&ASF_IANA.to_be_bytes());
        out.extend_from_slice(&[ASF_PING, self.tag, 0x00, 0x00]);
        out
    }

    /// Decodes a whole datagram as a ping.
    pub fn decode(bytes: &[u8]) -> Result<AsfPing, ProtocolError> {
        let (tag, _) = decode_asf(bytes, ASF_PING)?;
        Ok(AsfPing { tag })
    }
}

/// An ASF presence pong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsfPong {
    /// Message tag of the ping answered.
    pub tag: u8,
    /// IANA enterprise number of the OEM field.
    pub iana: u32,
    /// OEM-defined value.
    pub oem: u32,
    /// Supported entities; bit 7 set means IPMI is supported.
    pub entities: u8,
    /// Supported interactions; bit 5 set means RMCP security extensions.
    pub interactions: u8,
}

impl AsfPong {
    /// Whether the responder supports IPMI.
    pub fn supports_ipmi(&self) -> bool {
        self.entities & 0x80 != 0
    }

    /// Encodes the whole datagram (RMCP header included).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = RmcpHeader {
            sequence: RMCP_SEQ_NO_ACK,
            class: RmcpClass::Asf,
        }
        .encode()
        .to_vec();
        out.extend_from_slice(&ASF_IANA.to_be_bytes());
        out.extend_from_slice(&[ASF_PONG, self.tag, 0x00, 0x10]);
        out.extend_from_slice(&self.iana.to_be_bytes());
        out.extend_from_slice(&self.oem.to_be_bytes());
        out.extend_from_slice(&[self.entities, self.interactions, 0, 0, 0, 0, 0, 0]);
        out
    }

    /// Decodes a whole datagram as a pong.
    pub fn decode(bytes: &[u8]) -> Result<AsfPong, ProtocolError> {
        let (tag, data) = decode_asf(bytes, ASF_PONG)?;
        ProtocolError::need("ASF pong data", data, 16)?;
        Ok(AsfPong {
            tag,
            iana: u32::from_be_bytes([data[0], data[1], data[2], data[3]]),
            oem: u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
            entities: data[8],
            interactions: data[9],
        })
    }
}

/// Checks an ASF message of type `kind`; returns its tag and data.
fn decode_asf(bytes: &[u8], kind: u8) -> Result<(u8, &[u8]), ProtocolError> {
    let (header, rest) = RmcpHeader::decode(bytes)?;
    if header.class != RmcpClass::Asf {
        return Err(ProtocolError::Unexpected("not an ASF message"));
    }
    ProtocolError::need("ASF header", rest, 8)?;
    let iana = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
    if iana != ASF_IANA {
        return Err(ProtocolError::InvalidField {
            what: "ASF IANA",
            value: iana,
        });
    }
    if rest[4] != kind {
        return Err(ProtocolError::InvalidField {
            what: "ASF message type",
            value: rest[4].into(),
        });
    }
    let len = usize::from(rest[7]);
    let data = &rest[8..];
    if data.len() < len {
        return Err(ProtocolError::LengthMismatch {
            what: "ASF data",
            declared: len,
            actual: data.len(),
        });
    }
    Ok((rest[5], &data[..len]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ping_layout() {
        assert_eq!(
            AsfPing { tag: 7 }.encode(),
            [
                0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x80, 0x07, 0x00, 0x00
            ]
        );
    }

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = RmcpHeader::decode(&bytes);
            let _ = AsfPing::decode(&bytes);
            let _ = AsfPong::decode(&bytes);
        }

        #[test]
        fn pong_round_trips(tag: u8, iana: u32, oem: u32, entities: u8, interactions: u8) {
            let pong = AsfPong { tag, iana, oem, entities, interactions };
            prop_assert_eq!(AsfPong::decode(&pong.encode()).unwrap(), pong);
        }

        #[test]
        fn ping_round_trips(tag: u8) {
            prop_assert_eq!(AsfPing::decode(&AsfPing { tag }.encode()).unwrap(), AsfPing { tag });
        }
    }
}
