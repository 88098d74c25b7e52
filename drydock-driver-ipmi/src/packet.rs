//! Session wrappers: the IPMI 1.5 header (session-less commands) and the IPMI 2.0 / RMCP+
//! header with integrity trailer and encrypted payloads (IPMI v2.0 §13.6, §13.28).

use crate::crypto::SessionKeys;
use crate::error::ProtocolError;
use crate::rmcp::{RmcpClass, RmcpHeader};

/// Auth type / format byte announcing an RMCP+ (IPMI 2.0) session header.
pub const AUTH_TYPE_RMCP_PLUS: u8 = 0x06;
/// The "next header" byte of the integrity trailer.
const NEXT_HEADER: u8 = 0x07;

/// RMCP+ payload types used by this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadType {
    /// An IPMI message.
    Ipmi,
    /// RMCP+ Open Session Request.
    OpenSessionRequest,
    /// RMCP+ Open Session Response.
    OpenSessionResponse,
    /// RAKP Message 1.
    Rakp1,
    /// RAKP Message 2.
    Rakp2,
    /// RAKP Message 3.
    Rakp3,
    /// RAKP Message 4.
    Rakp4,
    /// Any other payload type (SOL, OEM, ...).
    Other(u8),
}

impl PayloadType {
    /// Wire value (6 bits).
    pub fn id(self) -> u8 {
        match self {
            PayloadType::Ipmi => 0x00,
            PayloadType::OpenSessionRequest => 0x10,
            PayloadType::OpenSessionResponse => 0x11,
            PayloadType::Rakp1 => 0x12,
            PayloadType::Rakp2 => 0x13,
            PayloadType::Rakp3 => 0x14,
            PayloadType::Rakp4 => 0x15,
            PayloadType::Other(v) => v & 0x3F,
        }
    }

    /// Type for a 6-bit wire value.
    pub fn from_id(id: u8) -> PayloadType {
        match id & 0x3F {
            0x00 => PayloadType::Ipmi,
            0x10 => PayloadType::OpenSessionRequest,
            0x11 => PayloadType::OpenSessionResponse,
            0x12 => PayloadType::Rakp1,
            0x13 => PayloadType::Rakp2,
            0x14 => PayloadType::Rakp3,
            0x15 => PayloadType::Rakp4,
            other => PayloadType::Other(other),
        }
    }
}

/// An IPMI 1.5 packet with authentication type "none" (used for session-less commands).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V15Packet {
    /// Session sequence number.
    pub sequence: u32,
    /// Session ID.
    pub session_id: u32,
    /// The IPMI message.
    pub message: Vec<u8>,
}

impl V15Packet {
    /// Encodes the whole datagram.
    ///
    /// ```
    /// use drydock_driver_ipmi::packet::V15Packet;
    /// let p = V15Packet { sequence: 0, session_id: 0, message: vec![0xAB] };
    /// assert_eq!(p.encode().unwrap(), [6, 0, 0xFF, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xAB]);
    /// ```
    pub fn encode(&self) -> Result<Vec<u8>, ProtocolError> {
        let len = u8::try_from(self.message.len()).map_err(|_| ProtocolError::LengthMismatch {
            what: "IPMI 1.5 message (max 255)",
            declared: 255,
            actual: self.message.len(),
        })?;
        let mut out = RmcpHeader::IPMI.encode().to_vec();
        out.push(0x00);
        out.extend_from_slice(&self.sequence.to_le_bytes());
        out.extend_from_slice(&self.session_id.to_le_bytes());
        out.push(len);
        out.extend_from_slice(&self.message);
        Ok(out)
    }

    /// Decodes an IPMI 1.5 packet; only authentication type "none" is accepted.
    pub fn decode(bytes: &[u8]) -> Result<V15Packet, ProtocolError> {
        let rest = ipmi_body(bytes)?;
        ProtocolError::need("IPMI 1.5 session header", rest, 10)?;
        if rest[0] != 0x00 {
            return Err(ProtocolError::InvalidField {
                what: "IPMI 1.5 auth type",
                value: rest[0].into(),
            });
        }
        let sequence = u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]]);
        let session_id = u32::from_le_bytes([rest[5], rest[6], rest[7], rest[8]]);
        let len = usize::from(rest[9]);
        let message = &rest[10..];
        if message.len() < len {
            return Err(ProtocolError::LengthMismatch {
                what: "IPMI 1.5 message",
                declared: len,
                actual: message.len(),
            });
        }
        // IPMI 1.5 allows one "legacy pad" byte after the message; anything more is garbage.
        if message.len() > len + 1 {
            return Err(ProtocolError::TrailingBytes {
                what: "IPMI 1.5 packet",
                count: message.len() - len,
            });
        }
        Ok(V15Packet {
            sequence,
            session_id,
            message: message[..len].to_vec(),
        })
    }
}

/// The RMCP+ session header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V20Header {
    /// Payload type.
    pub payload_type: PayloadType,
    /// Whether the payload is encrypted.
    pub encrypted: bool,
    /// Whether the packet carries an integrity trailer.
    pub authenticated: bool,
    /// Session ID (the receiver's ID; 0 before the session is active).
    pub session_id: u32,
    /// Session sequence number (0 outside a session).
    pub sequence: u32,
}

/// A decoded RMCP+ packet whose integrity was verified and payload decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V20Packet {
    /// Header fields.
    pub header: V20Header,
    /// The plaintext payload.
    pub payload: Vec<u8>,
}

impl V20Packet {
    /// Encodes the whole datagram. `keys` are required when the header asks for encryption or
    /// authentication; `iv` is the AES-CBC initialization vector (random per packet).
    pub fn encode(
        &self,
        keys: Option<&SessionKeys>,
        iv: [u8; 16],
    ) -> Result<Vec<u8>, ProtocolError> {
        let h = self.header;
        let need_keys = h.encrypted || h.authenticated;
        let keys = match (need_keys, keys) {
            (true, None) => {
                return Err(ProtocolError::Unexpected(
                    "keys required for a protected packet",
                ));
            }
            (_, keys) => keys,
        };
        let payload = match (h.encrypted, keys) {
            (true, Some(k)) => k.encrypt(iv, &self.payload)?,
            _ => self.payload.clone(),
        };
        let len = u16::try_from(payload.len()).map_err(|_| ProtocolError::LengthMismatch {
            what: "RMCP+ payload (max 65535)",
            declared: 65535,
            actual: payload.len(),
        })?;
        let mut out = RmcpHeader::IPMI.encode().to_vec();
        out.push(AUTH_TYPE_RMCP_PLUS);
        out.push(u8::from(h.encrypted) << 7 | u8::from(h.authenticated) << 6 | h.payload_type.id());
        out.extend_from_slice(&h.session_id.to_le_bytes());
        out.extend_from_slice(&h.sequence.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&payload);
        if let (true, Some(k)) = (h.authenticated, keys) {
            // Pad so that the region from the auth type through next header is a multiple of 4.
            let region = out.len() - 4 + 2;
            let pad = (4 - region % 4) % 4;
            out.extend(std::iter::repeat_n(0xFF, pad));
            out.push(pad as u8);
            out.push(NEXT_HEADER);
            let code = k.integrity_code(&out[4..]);
            out.extend_from_slice(&code);
        }
        Ok(out)
    }

    /// Decodes a datagram, verifying its integrity code and decrypting its payload with `keys`.
    ///
    /// A protected packet received without keys, or an unprotected one when the keys' suite
    /// requires protection, is rejected.
    pub fn decode(bytes: &[u8], keys: Option<&SessionKeys>) -> Result<V20Packet, ProtocolError> {
        let rest = ipmi_body(bytes)?;
        ProtocolError::need("RMCP+ session header", rest, 12)?;
        if rest[0] != AUTH_TYPE_RMCP_PLUS {
            return Err(ProtocolError::InvalidField {
                what: "RMCP+ auth type",
                value: rest[0].into(),
            });
        }
        let header = V20Header {
            payload_type: PayloadType::from_id(rest[1]),
            encrypted: rest[1] & 0x80 != 0,
            authenticated: rest[1] & 0x40 != 0,
            session_id: u32::from_le_bytes([rest[2], rest[3], rest[4], rest[5]]),
            sequence: u32::from_le_bytes([rest[6], rest[7], rest[8], rest[9]]),
        };
        if header.payload_type.id() == 0x02 {
            return Err(ProtocolError::Unexpected(
                "OEM explicit payloads are not supported",
            ));
        }
        let len = usize::from(u16::from_le_bytes([rest[10], rest[11]]));
        let body = &rest[12..];
        if body.len() < len {
            return Err(ProtocolError::LengthMismatch {
                what: "RMCP+ payload",
                declared: len,
                actual: body.len(),
            });
        }
        let raw = &body[..len];
        if let Some(k) = keys {
            let suite = k.suite();
            let want_auth = suite.integrity != crate::crypto::IntegrityAlgorithm::None;
            let want_enc = suite.confidentiality != crate::crypto::ConfidentialityAlgorithm::None;
            if header.authenticated != want_auth || header.encrypted != want_enc {
                return Err(ProtocolError::Unexpected(
                    "packet protection does not match the session",
                ));
            }
        } else if header.authenticated || header.encrypted {
            return Err(ProtocolError::Unexpected(
                "protected packet outside a session",
            ));
        }
        match keys {
            Some(k) if header.authenticated => {
                let code_len = k.suite().integrity.code_len();
                let trailer = &body[len..];
                let region_end = 12
                    + len
                    + trailer
                        .len()
                        .checked_sub(code_len)
                        .ok_or(ProtocolError::truncated(
                            "integrity trailer",
                            code_len + 2,
                            trailer.len(),
                        ))?;
                let (signed, code) = rest.split_at(region_end);
                if code.len() != code_len || signed.len() < 12 + len + 2 {
                    return Err(ProtocolError::truncated(
                        "integrity trailer",
                        code_len + 2,
                        trailer.len(),
                    ));
                }
                if signed[signed.len() - 1] != NEXT_HEADER {
                    let value = signed[signed.len() - 1].into();
                    return Err(ProtocolError::InvalidField {
                        what: "next header",
                        value,
                    });
                }
                let pad = usize::from(signed[signed.len() - 2]);
                if 12 + len + pad + 2 != signed.len() || signed.len() % 4 != 0 {
                    return Err(ProtocolError::InvalidField {
                        what: "integrity pad length",
                        value: pad as u32,
                    });
                }
                k.verify_integrity(signed, code)?;
            }
            // Without an integrity trailer the packet ends with its payload.
            _ if body.len() > len => {
                return Err(ProtocolError::TrailingBytes {
                    what: "RMCP+ packet",
                    count: body.len() - len,
                });
            }
            _ => {}
        }
        let payload = match keys {
            Some(k) if header.encrypted => k.decrypt(raw)?,
            _ => raw.to_vec(),
        };
        Ok(V20Packet { header, payload })
    }
}

/// Checks the RMCP header is IPMI class and returns the rest.
fn ipmi_body(bytes: &[u8]) -> Result<&[u8], ProtocolError> {
    let (header, rest) = RmcpHeader::decode(bytes)?;
    if header.class != RmcpClass::Ipmi {
        return Err(ProtocolError::Unexpected("not an IPMI-class RMCP message"));
    }
    Ok(rest)
}

/// Whether an IPMI-class datagram carries an RMCP+ (IPMI 2.0) session header.
pub fn is_rmcp_plus(bytes: &[u8]) -> bool {
    bytes.get(4) == Some(&AUTH_TYPE_RMCP_PLUS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CipherSuite;
    use proptest::prelude::*;

    fn keys(id: u8) -> SessionKeys {
        SessionKeys::derive(CipherSuite::from_id(id).unwrap(), &[7; 20])
    }

    fn packet(payload: Vec<u8>, protected: bool) -> V20Packet {
        V20Packet {
            header: V20Header {
                payload_type: PayloadType::Ipmi,
                encrypted: protected,
                authenticated: protected,
                session_id: 0x3002,
                sequence: 5,
            },
            payload,
        }
    }

    #[test]
    fn tampering_is_detected() {
        let k = keys(3);
        let mut bytes = packet(vec![1, 2, 3], true)
            .encode(Some(&k), [0; 16])
            .unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            V20Packet::decode(&bytes, Some(&k)),
            Err(ProtocolError::Integrity)
        );
        // An unprotected packet inside a protected session is refused.
        let plain = packet(vec![1], false).encode(None, [0; 16]).unwrap();
        assert!(V20Packet::decode(&plain, Some(&k)).is_err());
    }

    #[test]
    fn trailing_garbage_is_refused() {
        let garbage = vec![0xA5; 60 * 1024];
        let v15 = V15Packet {
            sequence: 0,
            session_id: 0,
            message: vec![1, 2, 3],
        }
        .encode()
        .unwrap();
        // One legacy pad byte is allowed, more is not.
        let mut padded = v15.clone();
        padded.push(0);
        assert_eq!(V15Packet::decode(&padded).unwrap().message, [1, 2, 3]);
        let mut long = v15;
        long.extend_from_slice(&garbage);
        assert_eq!(
            V15Packet::decode(&long),
            Err(ProtocolError::TrailingBytes {
                what: "IPMI 1.5 packet",
                count: garbage.len()
            })
        );

        let mut plain = packet(vec![1, 2, 3], false).encode(None, [0; 16]).unwrap();
        plain.push(0);
        assert_eq!(
            V20Packet::decode(&plain, None),
            Err(ProtocolError::TrailingBytes {
                what: "RMCP+ packet",
                count: 1
            })
        );

        let k = keys(17);
        let mut protected = packet(vec![1, 2, 3], true)
            .encode(Some(&k), [0; 16])
            .unwrap();
        protected.extend_from_slice(&garbage);
        assert!(V20Packet::decode(&protected, Some(&k)).is_err());
    }

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..96)) {
            let k = keys(3);
            let _ = V15Packet::decode(&bytes);
            let _ = V20Packet::decode(&bytes, None);
            let _ = V20Packet::decode(&bytes, Some(&k));
            let _ = V20Packet::decode(&bytes, Some(&keys(17)));
        }

        #[test]
        fn protected_round_trips(payload in proptest::collection::vec(any::<u8>(), 0..64),
                                 iv: [u8; 16], suite in prop::sample::select(vec![2u8, 3, 16, 17])) {
            let k = keys(suite);
            let protected = k.suite().confidentiality != crate::crypto::ConfidentialityAlgorithm::None;
            let mut p = packet(payload, true);
            p.header.encrypted = protected;
            let bytes = p.encode(Some(&k), iv).unwrap();
            prop_assert_eq!(V20Packet::decode(&bytes, Some(&k)).unwrap(), p);
        }

        #[test]
        fn plain_round_trips(payload in proptest::collection::vec(any::<u8>(), 0..64), ty in 0u8..64,
                             sid: u32, seq: u32) {
            let mut p = packet(payload.clone(), false);
            p.header.payload_type = PayloadType::from_id(ty);
            p.header.session_id = sid;
            p.header.sequence = seq;
            let bytes = p.encode(None, [0; 16]).unwrap();
            if ty == 0x02 {
                prop_assert!(V20Packet::decode(&bytes, None).is_err());
            } else {
                prop_assert_eq!(V20Packet::decode(&bytes, None).unwrap(), p);
            }
            let v15 = V15Packet { sequence: seq, session_id: sid, message: payload };
            prop_assert_eq!(V15Packet::decode(&v15.encode().unwrap()).unwrap(), v15);
        }
    }
}
