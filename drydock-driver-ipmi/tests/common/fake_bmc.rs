//! A scripted RMCP+ BMC on a loopback tokio socket, built from the crate's own pure protocol
//! layer (the BMC side of RAKP). Unlike `ipmi_sim` it offers cipher suite 17 and can drop or
//! duplicate datagrams; it records what the client did.

use std::sync::{Arc, Mutex};

use drydock_driver_ipmi::CompletionCode;
use drydock_driver_ipmi::crypto::SessionKeys;
use drydock_driver_ipmi::message::{Request, Response};
use drydock_driver_ipmi::packet::{PayloadType, V15Packet, V20Header, V20Packet, is_rmcp_plus};
use drydock_driver_ipmi::rakp::{
    Handshake, OpenSessionRequest, OpenSessionResponse, Rakp1, Rakp2, Rakp3, Rakp4, RmcpPlusStatus,
};
use tokio::net::UdpSocket;
use zeroize::Zeroizing;

/// Behaviour of the fake BMC.
#[derive(Debug, Clone)]
pub struct Script {
    /// Cipher suites listed by Get Channel Cipher Suites.
    pub listed: Vec<u8>,
    /// Cipher suites accepted by Open Session.
    pub accepted: Vec<u8>,
    /// The one user: name and password.
    pub user: (&'static str, &'static str),
    /// Drop the first datagram of each (payload type, command) kind.
    pub drop_first: bool,
    /// Send every response twice.
    pub duplicate: bool,
    /// Completion code for Set Session Privilege Level (0 grants it).
    pub set_privilege_cc: u8,
    /// Commands a session may send before the BMC forgets it and ignores its packets (as a
    /// BMC that expired it); `None`: no limit.
    pub commands_per_session: Option<usize>,
    /// The BMC session ID handed out by Open Session.
    pub bmc_session_id: u32,
    /// Bytes of garbage appended to every reply.
    pub trailing_garbage: usize,
    /// Ignore RAKP 1 for an unknown user name (as pyghmi does) instead of answering 0x0D.
    pub silent_on_unknown_user: bool,
    /// Answer session-less requests in IPMI 1.5 framing even when they came RMCP+-framed.
    pub answer_session_less_v15: bool,
    /// The framing of every session-less request received, in order (`(cmd, rmcp_plus)`).
    pub session_less_seen: Arc<Mutex<Vec<(u8, bool)>>>,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            listed: vec![3, 17],
            accepted: vec![3, 17],
            user: ("admin", "password"),
            drop_first: false,
            duplicate: false,
            set_privilege_cc: 0,
            commands_per_session: None,
            bmc_session_id: 0x0102_0304,
            trailing_garbage: 0,
            silent_on_unknown_user: false,
            answer_session_less_v15: false,
            session_less_seen: Arc::default(),
        }
    }
}

/// What the client did, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A session became active with this cipher suite.
    Active(u8),
    /// An IPMI command inside a session (netFn, cmd).
    Command(u8, u8),
    /// Close Session.
    Closed,
    /// A datagram dropped as scripted (payload type or 0xFF for IPMI 1.5, command byte).
    Dropped(u8, u8),
}

struct Active {
    keys: SessionKeys,
    console_session_id: u32,
    out_seq: u32,
    commands: usize,
}

struct Bmc {
    script: Script,
    events: Arc<Mutex<Vec<Event>>>,
    seen: Vec<(u8, u8)>,
    pending: Option<Handshake>,
    active: Option<Active>,
    power: u8,
}

/// Starts the fake BMC; returns its port and the event log.
pub async fn start(script: Script) -> (u16, Arc<Mutex<Vec<Event>>>) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut bmc = Bmc {
        script,
        events: events.clone(),
        seen: vec![],
        pending: None,
        active: None,
        power: 0,
    };
    tokio::spawn(async move {
        let mut buf = [0u8; 1024];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            for mut reply in bmc.handle(&buf[..n]) {
                reply.resize(reply.len() + bmc.script.trailing_garbage, 0xA5);
                let _ = socket.send_to(&reply, from).await;
            }
        }
    });
    (port, events)
}

fn plain(payload_type: PayloadType, payload: Vec<u8>) -> Vec<u8> {
    let header = V20Header {
        payload_type,
        encrypted: false,
        authenticated: false,
        session_id: 0,
        sequence: 0,
    };
    V20Packet { header, payload }.encode(None, [0; 16]).unwrap()
}

fn respond(rq: &Request, completion: u8, data: Vec<u8>) -> Vec<u8> {
    Response {
        rq_addr: rq.rq_addr,
        netfn: rq.netfn + 1,
        rq_lun: rq.rq_lun,
        rs_addr: rq.rs_addr,
        rq_seq: rq.rq_seq,
        rs_lun: rq.rs_lun,
        cmd: rq.cmd,
        completion: CompletionCode::from(completion),
        data,
    }
    .encode()
}

impl Bmc {
    fn handle(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        let reply = if is_rmcp_plus(bytes) {
            self.rmcp_plus(bytes)
        } else {
            self.session_less(bytes)
        };
        match reply {
            Some(r) if self.script.duplicate => vec![r.clone(), r],
            Some(r) => vec![r],
            None => vec![],
        }
    }

    /// True the first time a kind is seen when dropping is scripted.
    fn drop_now(&mut self, kind: (u8, u8)) -> bool {
        if !self.script.drop_first || self.seen.contains(&kind) {
            return false;
        }
        self.seen.push(kind);
        self.events
            .lock()
            .unwrap()
            .push(Event::Dropped(kind.0, kind.1));
        true
    }

    fn session_less(&mut self, bytes: &[u8]) -> Option<Vec<u8>> {
        let rq = Request::decode(&V15Packet::decode(bytes).ok()?.message).ok()?;
        if self.drop_now((0xFF, rq.cmd)) {
            return None;
        }
        self.script
            .session_less_seen
            .lock()
            .unwrap()
            .push((rq.cmd, false));
        V15Packet {
            sequence: 0,
            session_id: 0,
            message: self.session_less_answer(&rq),
        }
        .encode()
        .ok()
    }

    /// The answer to a session-less request (either framing).
    fn session_less_answer(&mut self, rq: &Request) -> Vec<u8> {
        match (rq.netfn, rq.cmd) {
            (0x06, 0x38) => respond(rq, 0, vec![0x01, 0x80, 0x00, 0x02, 0, 0, 0, 0]),
            (0x06, 0x54) => {
                let mut records = vec![];
                for id in &self.script.listed {
                    records.extend_from_slice(&[0xC0, *id, 0x01, 0x41, 0x81]);
                }
                let index = usize::from(rq.data[2] & 0x3F) * 16;
                let block = records.get(index..).unwrap_or(&[]).iter().take(16).copied();
                respond(rq, 0, std::iter::once(0x01).chain(block).collect())
            }
            _ => respond(rq, 0xC1, vec![]),
        }
    }

    fn rmcp_plus(&mut self, bytes: &[u8]) -> Option<Vec<u8>> {
        let keys = self.active.as_ref().map(|a| a.keys.clone());
        let probe = V20Packet::decode(bytes, None)
            .or_else(|_| V20Packet::decode(bytes, keys.as_ref()))
            .ok()?;
        if self.drop_now((
            probe.header.payload_type.id(),
            probe.payload.get(5).copied().unwrap_or(0),
        )) {
            return None;
        }
        match probe.header.payload_type {
            PayloadType::OpenSessionRequest => {
                let rq = OpenSessionRequest::decode(&probe.payload).ok()?;
                let suite = rq.suite;
                let ok = self.script.accepted.contains(&suite.id);
                let algorithms = [
                    suite.auth.id(),
                    suite.integrity.id(),
                    suite.confidentiality.id(),
                ];
                let status = RmcpPlusStatus(if ok { 0 } else { 0x11 });
                let bmc_session_id = self.script.bmc_session_id;
                if ok {
                    self.pending = Some(Handshake {
                        suite,
                        console_session_id: rq.console_session_id,
                        bmc_session_id,
                        console_random: [0; 16],
                        bmc_random: rand::random(),
                        bmc_guid: [0xA5; 16],
                        role: 0,
                        username: vec![],
                        key: Zeroizing::new(self.script.user.1.as_bytes().to_vec()),
                    });
                }
                let rs = OpenSessionResponse {
                    tag: rq.tag,
                    status,
                    max_privilege: 4,
                    console_session_id: rq.console_session_id,
                    bmc_session_id,
                    algorithms,
                };
                Some(plain(PayloadType::OpenSessionResponse, rs.encode()))
            }
            PayloadType::Rakp1 => {
                let rq = Rakp1::decode(&probe.payload).ok()?;
                let h = self.pending.as_mut()?;
                h.console_random = rq.console_random;
                h.role = rq.role;
                h.username = rq.username.clone();
                let known = rq.username == self.script.user.0.as_bytes();
                if !known && self.script.silent_on_unknown_user {
                    return None;
                }
                let rs = Rakp2 {
                    tag: rq.tag,
                    status: RmcpPlusStatus(if known { 0 } else { 0x0D }),
                    console_session_id: h.console_session_id,
                    bmc_random: h.bmc_random,
                    bmc_guid: h.bmc_guid,
                    auth_code: h.rakp2_auth_code().to_vec(),
                };
                Some(plain(PayloadType::Rakp2, rs.encode()))
            }
            PayloadType::Rakp3 => {
                let rq = Rakp3::decode(&probe.payload).ok()?;
                let h = self.pending.take()?;
                let good = rq.status.0 == 0 && rq.auth_code == h.rakp3_auth_code().to_vec();
                let rs = Rakp4 {
                    tag: rq.tag,
                    status: RmcpPlusStatus(if good { 0 } else { 0x0F }),
                    console_session_id: h.console_session_id,
                    icv: h.rakp4_icv().to_vec(),
                };
                if good {
                    let keys = SessionKeys::derive(h.suite, &h.sik());
                    self.events.lock().unwrap().push(Event::Active(h.suite.id));
                    self.active = Some(Active {
                        keys,
                        console_session_id: h.console_session_id,
                        out_seq: 0,
                        commands: 0,
                    });
                }
                Some(plain(PayloadType::Rakp4, rs.encode()))
            }
            // A session-less request in RMCP+ framing (ipmitool's Get Channel Cipher Suites).
            PayloadType::Ipmi if probe.header.session_id == 0 && !probe.header.authenticated => {
                let rq = Request::decode(&probe.payload).ok()?;
                self.script
                    .session_less_seen
                    .lock()
                    .unwrap()
                    .push((rq.cmd, true));
                let message = self.session_less_answer(&rq);
                if self.script.answer_session_less_v15 {
                    let v15 = V15Packet {
                        sequence: 0,
                        session_id: 0,
                        message,
                    };
                    return v15.encode().ok();
                }
                Some(plain(PayloadType::Ipmi, message))
            }
            PayloadType::Ipmi => self.command(&probe.payload),
            _ => None,
        }
    }

    fn command(&mut self, message: &[u8]) -> Option<Vec<u8>> {
        let rq = Request::decode(message).ok()?;
        let active = self.active.as_mut()?;
        if self
            .script
            .commands_per_session
            .is_some_and(|n| active.commands >= n)
        {
            return None;
        }
        active.commands += 1;
        self.events
            .lock()
            .unwrap()
            .push(Event::Command(rq.netfn, rq.cmd));
        let (cc, data) = match (rq.netfn, rq.cmd) {
            (0x06, 0x3B) => (self.script.set_privilege_cc, vec![rq.data[0]]),
            (0x06, 0x3C) => {
                self.events.lock().unwrap().push(Event::Closed);
                (0, vec![])
            }
            (0x00, 0x01) => (0, vec![self.power, 0, 0]),
            (0x00, 0x02) => {
                self.power = u8::from(rq.data[0] != 0);
                (0, vec![])
            }
            _ => (0xC1, vec![]),
        };
        let active = self.active.as_mut()?;
        active.out_seq += 1;
        let suite = active.keys.suite();
        let header = V20Header {
            payload_type: PayloadType::Ipmi,
            encrypted: suite.confidentiality.id() != 0,
            authenticated: suite.integrity.id() != 0,
            session_id: active.console_session_id,
            sequence: active.out_seq,
        };
        let packet = V20Packet {
            header,
            payload: respond(&rq, cc, data),
        };
        packet.encode(Some(&active.keys), rand::random()).ok()
    }
}
