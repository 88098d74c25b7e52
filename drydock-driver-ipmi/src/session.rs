//! An established RMCP+ session: set-up (auth caps, Open Session, RAKP 1-4, privilege),
//! authenticated requests, and Close Session (also attempted on drop).

use rand::RngCore;
use zeroize::Zeroizing;

use crate::commands::{ChannelAuthCaps, Command, decode_cipher_suite_records};
use crate::config::IpmiConfig;
use crate::crypto::{CipherSuite, ConfidentialityAlgorithm, IntegrityAlgorithm, SessionKeys};
use crate::error::{Error, ProtocolError, Result};
use crate::message::{Request, Response};
use crate::packet::{PayloadType, V15Packet, V20Header, V20Packet, is_rmcp_plus};
use crate::rakp::{
    Handshake, OpenSessionRequest, OpenSessionResponse, Rakp1, Rakp2, Rakp3, Rakp4, RmcpPlusStatus,
};
use crate::seq::{OutboundSequence, ReplayWindow};
use crate::transport::Transport;

/// RAKP 3 status sent when RAKP 2 does not verify ("invalid integrity check value").
const RAKP3_REJECT: RmcpPlusStatus = RmcpPlusStatus(0x0F);
/// Times RAKP 1 is sent at most. A BMC that answered Open Session and then stays silent on
/// RAKP 1 has, in practice, dropped it for an unknown user name (pyghmi, and so VirtualBMC, do
/// that); one retransmission covers a lost datagram without spending the whole retry budget.
const RAKP1_ATTEMPTS: u32 = 2;

/// How a session-less request is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// IPMI 1.5 session header, authentication type none (Get Channel Authentication
    /// Capabilities, which must work with IPMI 1.5-only BMCs).
    V15,
    /// Each attempt sends the request twice: RMCP+-framed (payload type IPMI, session ID 0,
    /// unprotected), as ipmitool sends Get Channel Cipher Suites, and IPMI 1.5-framed. BMCs
    /// differ: `ipmi_sim` answers only the IPMI 1.5 form (ipmitool's probe goes unanswered
    /// there), pyghmi answers both, in RMCP+ framing; the first answer is taken, a second one
    /// is ignored like any duplicate.
    Both,
}
/// Blocks of Get Channel Cipher Suites read at most (16 bytes each).
const MAX_CIPHER_SUITE_BLOCKS: u8 = 8;

/// An active RMCP+ session with one BMC.
#[derive(Debug)]
pub(crate) struct Session {
    transport: Transport,
    keys: SessionKeys,
    console_session_id: u32,
    bmc_session_id: u32,
    out_seq: OutboundSequence,
    window: ReplayWindow,
    rq_seq: u8,
    open: bool,
}

fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    rand::rng().fill_bytes(&mut out);
    out
}

/// Turns a non-zero completion code into an error.
fn check(command: &'static str, rs: Response) -> Result<Response> {
    if rs.completion.is_success() {
        Ok(rs)
    } else {
        Err(Error::CompletionCode {
            command,
            code: rs.completion,
        })
    }
}

/// Error for a non-zero RMCP+ status during set-up.
fn rejected(step: &str, status: RmcpPlusStatus) -> Error {
    if status.is_authorization_failure() {
        Error::Unauthorized(format!("{step}: {status}"))
    } else {
        Error::SessionRejected(status)
    }
}

impl Session {
    /// Opens a session as configured.
    pub(crate) async fn open(config: &IpmiConfig) -> Result<Session> {
        let forced = config.validate()?;
        let transport =
            Transport::connect(&config.host, config.port, config.timeout, config.retries).await?;
        let caps = session_less(
            &transport,
            &Command::get_channel_auth_caps(config.privilege),
            0,
            Framing::V15,
        )
        .await?;
        let caps = ChannelAuthCaps::decode(&caps.data)?;
        if !caps.ipmi20 {
            return Err(Error::Unsupported(
                "the BMC's channel does not support IPMI 2.0 / RMCP+".into(),
            ));
        }
        let suite = match forced {
            Some(suite) => suite,
            None => auto_suite(&transport).await,
        };
        let mut session = match establish(transport, config, suite).await {
            Err(Error::SessionRejected(status))
                if forced.is_none() && suite.id != 3 && status.is_algorithm_mismatch() =>
            {
                tracing::debug!(%status, "cipher suite {} refused, falling back to 3", suite.id);
                let transport =
                    Transport::connect(&config.host, config.port, config.timeout, config.retries)
                        .await?;
                let suite = CipherSuite::from_id(3).ok_or(ProtocolError::Unexpected("suite 3"))?;
                establish(transport, config, suite).await?
            }
            other => other?,
        };
        if config.privilege > crate::rakp::PrivilegeLevel::User {
            let cmd = Command::set_session_privilege(config.privilege);
            match session.request(&cmd).await {
                Ok(rs) if rs.data.first().map(|b| b & 0x0F) == Some(config.privilege.id()) => {}
                Ok(rs) => {
                    let _ = session.close().await;
                    return Err(Error::Unauthorized(format!(
                        "asked for privilege level {:?}, the BMC granted {:?}",
                        config.privilege,
                        rs.data.first()
                    )));
                }
                Err(Error::CompletionCode { code, .. })
                    if matches!(u8::from(code), 0x80 | 0x81) =>
                {
                    let _ = session.close().await;
                    return Err(Error::Unauthorized(format!(
                        "privilege level {:?} not granted to user ({code})",
                        config.privilege
                    )));
                }
                Err(e) => {
                    let _ = session.close().await;
                    return Err(e);
                }
            }
        }
        Ok(session)
    }

    /// The negotiated cipher suite.
    pub(crate) fn suite(&self) -> CipherSuite {
        self.keys.suite()
    }

    fn next_rq_seq(&mut self) -> u8 {
        self.rq_seq = (self.rq_seq + 1) & 0x3F;
        self.rq_seq
    }

    /// Sends a command in the session; returns the response (completion code checked).
    pub(crate) async fn request(&mut self, cmd: &Command) -> Result<Response> {
        if !self.open {
            return Err(Error::Unsupported("the session is closed".into()));
        }
        let rq_seq = self.next_rq_seq();
        let message = Request::to_bmc(cmd.netfn, cmd.cmd, rq_seq, &cmd.data).encode();
        let (transport, keys, window, sid) = (
            &self.transport,
            &self.keys,
            &mut self.window,
            self.console_session_id,
        );
        let out_seq = &mut self.out_seq;
        let bmc_session_id = self.bmc_session_id;
        let rs = transport
            .exchange(
                cmd.name,
                || seal(out_seq, keys, bmc_session_id, &message),
                |bytes| {
                    let p = V20Packet::decode(bytes, Some(keys))?;
                    if p.header.session_id != sid || p.header.payload_type != PayloadType::Ipmi {
                        return Ok(None);
                    }
                    window.accept(p.header.sequence)?;
                    let rs = Response::decode(&p.payload)?;
                    let ours =
                        rs.netfn == cmd.netfn + 1 && rs.cmd == cmd.cmd && rs.rq_seq == rq_seq;
                    Ok(ours.then_some(rs))
                },
            )
            .await?;
        check(cmd.name, rs)
    }

    /// Sends Close Session and waits for the answer (one exchange, with retries).
    pub(crate) async fn close(&mut self) -> Result<()> {
        if !self.open {
            return Ok(());
        }
        let cmd = Command::close_session(self.bmc_session_id);
        let result = self.request(&cmd).await.map(drop);
        self.open = false;
        match result {
            // The BMC already forgot the session (e.g. closed by a retransmitted request).
            Err(Error::CompletionCode { code, .. }) if u8::from(code) == 0x87 => Ok(()),
            other => other,
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        // Best effort: one Close Session datagram, sent without waiting (works without a runtime).
        let cmd = Command::close_session(self.bmc_session_id);
        let rq_seq = self.next_rq_seq();
        let message = Request::to_bmc(cmd.netfn, cmd.cmd, rq_seq, &cmd.data).encode();
        let sent = seal(&mut self.out_seq, &self.keys, self.bmc_session_id, &message)
            .map(|p| self.transport.try_send(&p))
            .unwrap_or(false);
        tracing::debug!(sent, "session dropped without close: sent Close Session");
    }
}

/// Wraps an IPMI message in the session's protection with the next sequence number.
fn seal(
    out_seq: &mut OutboundSequence,
    keys: &SessionKeys,
    session_id: u32,
    message: &[u8],
) -> Result<Vec<u8>> {
    let sequence = out_seq
        .next_number()
        .ok_or_else(|| Error::Unsupported("session sequence numbers exhausted".into()))?;
    let suite = keys.suite();
    let header = V20Header {
        payload_type: PayloadType::Ipmi,
        encrypted: suite.confidentiality != ConfidentialityAlgorithm::None,
        authenticated: suite.integrity != IntegrityAlgorithm::None,
        session_id,
        sequence,
    };
    Ok(V20Packet {
        header,
        payload: message.to_vec(),
    }
    .encode(Some(keys), random())?)
}

/// One session-less request framed as `framing`; the answer is accepted in either framing
/// (BMCs differ: pyghmi answers Get Channel Cipher Suites RMCP+-framed whatever was sent).
async fn session_less(
    transport: &Transport,
    cmd: &Command,
    rq_seq: u8,
    framing: Framing,
) -> Result<Response> {
    let message = Request::to_bmc(cmd.netfn, cmd.cmd, rq_seq, &cmd.data).encode();
    let rmcp_plus = match framing {
        Framing::V15 => None,
        Framing::Both => Some(
            V20Packet {
                header: V20Header {
                    payload_type: PayloadType::Ipmi,
                    encrypted: false,
                    authenticated: false,
                    session_id: 0,
                    sequence: 0,
                },
                payload: message.clone(),
            }
            .encode(None, [0; 16])?,
        ),
    };
    let packet = V15Packet {
        sequence: 0,
        session_id: 0,
        message,
    }
    .encode()?;
    let rs = transport
        .exchange(
            cmd.name,
            || {
                if let Some(p) = &rmcp_plus {
                    transport.try_send(p);
                }
                Ok(packet.clone())
            },
            |bytes| {
                let message = if is_rmcp_plus(bytes) {
                    let p = V20Packet::decode(bytes, None)?;
                    if p.header.payload_type != PayloadType::Ipmi || p.header.session_id != 0 {
                        return Ok(None);
                    }
                    p.payload
                } else {
                    V15Packet::decode(bytes)?.message
                };
                let rs = Response::decode(&message)?;
                let ours = rs.netfn == cmd.netfn + 1 && rs.cmd == cmd.cmd && rs.rq_seq == rq_seq;
                Ok(ours.then_some(rs))
            },
        )
        .await?;
    check(cmd.name, rs)
}

/// Picks 17 when Get Channel Cipher Suites lists it, else 3 (also when the query fails).
async fn auto_suite(transport: &Transport) -> CipherSuite {
    let fallback = CipherSuite::from_id(3).expect("suite 3 is implemented");
    let mut records = Vec::new();
    for index in 0..MAX_CIPHER_SUITE_BLOCKS {
        match session_less(
            transport,
            &Command::get_channel_cipher_suites(index),
            index + 1,
            Framing::Both,
        )
        .await
        {
            Ok(rs) if !rs.data.is_empty() => {
                records.extend_from_slice(&rs.data[1..]);
                if rs.data.len() < 17 {
                    break;
                }
            }
            Ok(_) => break,
            Err(e) => {
                tracing::debug!(error = %e, "Get Channel Cipher Suites failed; using suite 3");
                return fallback;
            }
        }
    }
    match decode_cipher_suite_records(&records) {
        Ok(ids) if ids.contains(&17) => CipherSuite::from_id(17).unwrap_or(fallback),
        _ => fallback,
    }
}

/// Open Session, RAKP 1-4 with `suite`; returns the active session (at USER privilege).
async fn establish(
    transport: Transport,
    config: &IpmiConfig,
    suite: CipherSuite,
) -> Result<Session> {
    let console_session_id = u32::from_le_bytes(random()).max(1);
    let plain = |payload_type: PayloadType, payload: Vec<u8>| {
        let header = V20Header {
            payload_type,
            encrypted: false,
            authenticated: false,
            session_id: 0,
            sequence: 0,
        };
        V20Packet { header, payload }
            .encode(None, [0; 16])
            .map_err(Error::from)
    };
    let expect = |bytes: &[u8], ty: PayloadType| -> Result<Option<Vec<u8>>> {
        let p = V20Packet::decode(bytes, None)?;
        Ok((p.header.payload_type == ty).then_some(p.payload))
    };

    let tag = random::<1>()[0];
    let rq = OpenSessionRequest {
        tag,
        max_privilege: 0,
        console_session_id,
        suite,
    }
    .encode();
    let open = plain(PayloadType::OpenSessionRequest, rq)?;
    let rs = transport
        .exchange(
            "Open Session",
            || Ok(open.clone()),
            |b| {
                let Some(payload) = expect(b, PayloadType::OpenSessionResponse)? else {
                    return Ok(None);
                };
                let rs = OpenSessionResponse::decode(&payload)?;
                let ours = rs.tag == tag
                    && (rs.status.0 != 0 || rs.console_session_id == console_session_id);
                Ok(ours.then_some(rs))
            },
        )
        .await?;
    if rs.status.0 != 0 {
        return Err(rejected("Open Session", rs.status));
    }
    if rs.bmc_session_id == 0 {
        return Err(ProtocolError::ZeroSessionId {
            what: "Open Session Response",
        }
        .into());
    }
    if rs.algorithms
        != [
            suite.auth.id(),
            suite.integrity.id(),
            suite.confidentiality.id(),
        ]
    {
        return Err(
            ProtocolError::Unexpected("Open Session Response selected other algorithms").into(),
        );
    }

    let mut h = Handshake {
        suite,
        console_session_id,
        bmc_session_id: rs.bmc_session_id,
        console_random: random(),
        bmc_random: [0; 16],
        bmc_guid: [0; 16],
        role: config.privilege.id() | 0x10,
        username: config.username.as_bytes().to_vec(),
        key: Zeroizing::new(config.password.expose().to_vec()),
    };
    let tag = tag.wrapping_add(1);
    let rakp1 = Rakp1 {
        tag,
        bmc_session_id: h.bmc_session_id,
        console_random: h.console_random,
        role: h.role,
        username: h.username.clone(),
    };
    let rakp1 = plain(PayloadType::Rakp1, rakp1.encode())?;
    let attempts = RAKP1_ATTEMPTS.min(transport.retries().saturating_add(1));
    let rakp2 = transport
        .exchange_at_most(
            "RAKP 1",
            attempts,
            || Ok(rakp1.clone()),
            |b| {
                let Some(payload) = expect(b, PayloadType::Rakp2)? else {
                    return Ok(None);
                };
                let rs = Rakp2::decode(&payload)?;
                let ours = rs.tag == tag
                    && (rs.status.0 != 0 || rs.console_session_id == console_session_id);
                Ok(ours.then_some(rs))
            },
        )
        .await
        .map_err(|e| match e {
            Error::Timeout { attempts, .. } => Error::Unauthorized(format!(
                "the BMC answered Open Session but not RAKP 1 (sent {attempts} time(s)) for user \
                 name {:?}: the BMC does not know the user name (some BMCs, such as pyghmi's and \
                 VirtualBMC, drop RAKP 1 for an unknown user instead of answering)",
                config.username
            )),
            other => other,
        })?;
    if rakp2.status.0 != 0 {
        return Err(rejected("RAKP 2", rakp2.status));
    }
    h.bmc_random = rakp2.bmc_random;
    h.bmc_guid = rakp2.bmc_guid;
    let tag = tag.wrapping_add(1);
    if !h.verify_rakp2(&rakp2.auth_code) {
        // Tell the BMC to drop the half-open session; do not wait for an answer.
        let reject = Rakp3 {
            tag,
            status: RAKP3_REJECT,
            bmc_session_id: h.bmc_session_id,
            auth_code: vec![],
        };
        if let Ok(p) = plain(PayloadType::Rakp3, reject.encode()) {
            transport.try_send(&p);
        }
        return Err(Error::Unauthorized(
            "RAKP 2 authentication code does not verify (wrong user name or password)".into(),
        ));
    }
    let rakp3 = Rakp3 {
        tag,
        status: RmcpPlusStatus(0),
        bmc_session_id: h.bmc_session_id,
        auth_code: h.rakp3_auth_code().to_vec(),
    };
    let rakp3 = plain(PayloadType::Rakp3, rakp3.encode())?;
    let rakp4 = transport
        .exchange(
            "RAKP 3",
            || Ok(rakp3.clone()),
            |b| {
                let Some(payload) = expect(b, PayloadType::Rakp4)? else {
                    return Ok(None);
                };
                let rs = Rakp4::decode(&payload)?;
                let ours = rs.tag == tag
                    && (rs.status.0 != 0 || rs.console_session_id == console_session_id);
                Ok(ours.then_some(rs))
            },
        )
        .await?;
    if rakp4.status.0 != 0 {
        return Err(rejected("RAKP 4", rakp4.status));
    }
    if !h.verify_rakp4(&rakp4.icv) {
        return Err(Error::Unauthorized(
            "RAKP 4 integrity check value does not verify".into(),
        ));
    }
    let keys = SessionKeys::derive(suite, &h.sik());
    tracing::debug!(
        suite = suite.id,
        bmc_session_id = h.bmc_session_id,
        "RMCP+ session established"
    );
    Ok(Session {
        transport,
        keys,
        console_session_id,
        bmc_session_id: h.bmc_session_id,
        out_seq: OutboundSequence::default(),
        window: ReplayWindow::default(),
        rq_seq: 0,
        open: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::completion::CompletionCode;

    #[test]
    fn completion_codes_become_errors() {
        let rs = Response {
            rq_addr: 0x81,
            netfn: 0x01,
            rq_lun: 0,
            rs_addr: 0x20,
            rq_seq: 1,
            rs_lun: 0,
            cmd: 0x02,
            completion: CompletionCode::InsufficientPrivilege,
            data: vec![],
        };
        let err = check("Chassis Control", rs).unwrap_err();
        assert_eq!(
            err.completion_code(),
            Some(CompletionCode::InsufficientPrivilege)
        );
        assert_eq!(
            rejected("RAKP 2", RmcpPlusStatus(0x0D)).kind(),
            crate::ErrorKind::Unauthorized
        );
        assert_eq!(
            rejected("Open", RmcpPlusStatus(0x11)).kind(),
            crate::ErrorKind::Unsupported
        );
    }
}
