//! IPMI message framing (IPMI v2.0 §13.8): addresses, netFn/LUN, checksums, rqSeq.

use crate::completion::CompletionCode;
use crate::error::ProtocolError;

/// Slave address of the BMC.
pub const BMC_ADDR: u8 = 0x20;
/// Software ID used by a remote console (IPMI v2.0 §5.5: 0x81).
pub const REMOTE_CONSOLE_ADDR: u8 = 0x81;

/// Network function codes (request values; the response is the request value + 1).
pub mod netfn {
    /// Chassis.
    pub const CHASSIS: u8 = 0x00;
    /// Sensor/event.
    pub const SENSOR_EVENT: u8 = 0x04;
    /// Application.
    pub const APP: u8 = 0x06;
    /// Storage (SEL, SDR, FRU).
    pub const STORAGE: u8 = 0x0A;
    /// Transport.
    pub const TRANSPORT: u8 = 0x0C;
}

/// The two's-complement checksum used by IPMI messages: the byte that makes the sum zero.
///
/// ```
/// use drydock_driver_ipmi::message::checksum;
/// assert_eq!(checksum(&[0x20, 0x18]), 0xC8);
/// ```
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |acc, b| acc.wrapping_add(*b))
        .wrapping_neg()
}

/// An IPMI request message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Responder's slave address (the BMC: [`BMC_ADDR`]).
    pub rs_addr: u8,
    /// Network function (6 bits, even for requests).
    pub netfn: u8,
    /// Responder's LUN (2 bits).
    pub rs_lun: u8,
    /// Requester's address.
    pub rq_addr: u8,
    /// Request sequence number (6 bits).
    pub rq_seq: u8,
    /// Requester's LUN (2 bits).
    pub rq_lun: u8,
    /// Command code.
    pub cmd: u8,
    /// Request data.
    pub data: Vec<u8>,
}

impl Request {
    /// A request from a remote console to the BMC, LUN 0.
    pub fn to_bmc(netfn: u8, cmd: u8, rq_seq: u8, data: &[u8]) -> Request {
        Request {
            rs_addr: BMC_ADDR,
            netfn,
            rs_lun: 0,
            rq_addr: REMOTE_CONSOLE_ADDR,
            rq_seq,
            rq_lun: 0,
            cmd,
            data: data.to_vec(),
        }
    }

    /// Encodes the message with both checksums.
    ///
    /// ```
    /// use drydock_driver_ipmi::message::Request;
    /// // Get Device ID with rqSeq 3, as sent by ipmitool.
    /// let bytes = Request::to_bmc(0x06, 0x01, 3, &[]).encode();
    /// assert_eq!(bytes, [0x20, 0x18, 0xC8, 0x81, 0x0C, 0x01, 0x72]);
    /// ```
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(7 + self.data.len());
        out.push(self.rs_addr);
        out.push((self.netfn & 0x3F) << 2 | (self.rs_lun & 0x03));
        out.push(checksum(&out[..2]));
        out.push(self.rq_addr);
        out.push((self.rq_seq & 0x3F) << 2 | (self.rq_lun & 0x03));
        out.push(self.cmd);
        out.extend_from_slice(&self.data);
        out.push(checksum(&out[3..]));
        out
    }

    /// Decodes a request message, verifying both checksums.
    pub fn decode(bytes: &[u8]) -> Result<Request, ProtocolError> {
        let (head, body) = split_checked(bytes)?;
        Ok(Request {
            rs_addr: head[0],
            netfn: head[1] >> 2,
            rs_lun: head[1] & 0x03,
            rq_addr: body[0],
            rq_seq: body[1] >> 2,
            rq_lun: body[1] & 0x03,
            cmd: body[2],
            data: body[3..].to_vec(),
        })
    }
}

/// An IPMI response message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Requester's address (the remote console).
    pub rq_addr: u8,
    /// Network function of the response (odd).
    pub netfn: u8,
    /// Requester's LUN.
    pub rq_lun: u8,
    /// Responder's address (the BMC).
    pub rs_addr: u8,
    /// Request sequence number echoed from the request.
    pub rq_seq: u8,
    /// Responder's LUN.
    pub rs_lun: u8,
    /// Command code.
    pub cmd: u8,
    /// Completion code.
    pub completion: CompletionCode,
    /// Response data after the completion code.
    pub data: Vec<u8>,
}

impl Response {
    /// Encodes the message with both checksums.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.data.len());
        out.push(self.rq_addr);
        out.push((self.netfn & 0x3F) << 2 | (self.rq_lun & 0x03));
        out.push(checksum(&out[..2]));
        out.push(self.rs_addr);
        out.push((self.rq_seq & 0x3F) << 2 | (self.rs_lun & 0x03));
        out.push(self.cmd);
        out.push(self.completion.into());
        out.extend_from_slice(&self.data);
        out.push(checksum(&out[3..]));
        out
    }

    /// Decodes a response message, verifying both checksums.
    ///
    /// ```
    /// use drydock_driver_ipmi::message::Response;
    /// use drydock_driver_ipmi::completion::CompletionCode;
    /// // Set Session Privilege Level response from the captured session.
    /// let r = Response::decode(&[0x81, 0x1C, 0x63, 0x20, 0x04, 0x3B, 0x00, 0x04, 0x9D]).unwrap();
    /// assert_eq!((r.netfn, r.cmd, r.rq_seq), (0x07, 0x3B, 1));
    /// assert_eq!(r.completion, CompletionCode::Success);
    /// assert_eq!(r.data, [0x04]);
    /// ```
    pub fn decode(bytes: &[u8]) -> Result<Response, ProtocolError> {
        let (head, body) = split_checked(bytes)?;
        let completion =
            *body
                .get(3)
                .ok_or(ProtocolError::truncated("IPMI response", 8, bytes.len()))?;
        Ok(Response {
            rq_addr: head[0],
            netfn: head[1] >> 2,
            rq_lun: head[1] & 0x03,
            rs_addr: body[0],
            rq_seq: body[1] >> 2,
            rs_lun: body[1] & 0x03,
            cmd: body[2],
            completion: completion.into(),
            data: body[4..].to_vec(),
        })
    }
}

/// Verifies the two checksums; returns the 2-byte head and the body without its checksum.
fn split_checked(bytes: &[u8]) -> Result<(&[u8], &[u8]), ProtocolError> {
    ProtocolError::need("IPMI message", bytes, 7)?;
    if checksum(&bytes[..2]) != bytes[2] {
        return Err(ProtocolError::Checksum {
            what: "IPMI header checksum",
        });
    }
    let (body, last) = bytes[3..].split_at(bytes.len() - 4);
    if checksum(body) != last[0] {
        return Err(ProtocolError::Checksum {
            what: "IPMI data checksum",
        });
    }
    Ok((&bytes[..2], body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn captured_messages_decode() {
        // Get Channel Authentication Capabilities (packet #0 of the capture).
        let rq = Request::decode(&[0x20, 0x18, 0xC8, 0x81, 0x00, 0x38, 0x8E, 0x04, 0xB5]).unwrap();
        assert_eq!(
            (rq.netfn, rq.cmd, rq.data.as_slice()),
            (netfn::APP, 0x38, &[0x8E, 0x04][..])
        );
        let bad = [0x20, 0x18, 0xC8, 0x81, 0x00, 0x38, 0x8E, 0x04, 0xB6];
        assert_eq!(
            Request::decode(&bad),
            Err(ProtocolError::Checksum {
                what: "IPMI data checksum"
            })
        );
        let bad = [0x20, 0x19, 0xC8, 0x81, 0x00, 0x38, 0x8E, 0x04, 0xB5];
        assert_eq!(
            Request::decode(&bad),
            Err(ProtocolError::Checksum {
                what: "IPMI header checksum"
            })
        );
        // A response needs a completion code.
        let short = Request::to_bmc(0x07, 0x01, 0, &[]).encode();
        assert!(Response::decode(&short).is_err());
    }

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = Request::decode(&bytes);
            let _ = Response::decode(&bytes);
        }

        #[test]
        fn request_round_trips(netfn in 0u8..64, lun in 0u8..4, seq in 0u8..64, cmd: u8,
                               data in proptest::collection::vec(any::<u8>(), 0..32)) {
            let rq = Request { rs_addr: BMC_ADDR, netfn, rs_lun: lun, rq_addr: REMOTE_CONSOLE_ADDR,
                               rq_seq: seq, rq_lun: lun, cmd, data };
            prop_assert_eq!(Request::decode(&rq.encode()).unwrap(), rq);
        }

        #[test]
        fn response_round_trips(netfn in 0u8..64, seq in 0u8..64, cmd: u8, cc: u8,
                                data in proptest::collection::vec(any::<u8>(), 0..32)) {
            let rs = Response { rq_addr: REMOTE_CONSOLE_ADDR, netfn, rq_lun: 0, rs_addr: BMC_ADDR,
                                rq_seq: seq, rs_lun: 0, cmd, completion: cc.into(), data };
            prop_assert_eq!(Response::decode(&rs.encode()).unwrap(), rs);
        }
    }
}
