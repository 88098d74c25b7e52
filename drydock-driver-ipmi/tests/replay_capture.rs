//! Replays the captured `ipmitool -I lanplus -C 3` session against `ipmi_sim`
//! (`ipmi/ipmi_sim_lanplus_c3.pcap` of the outside corpus; skipped visibly without it) through
//! the pure protocol layer: key
//! derivation, RAKP authentication codes, the integrity code and decryption of every packet,
//! and byte-exact re-encoding of every packet the console sent.

use drydock_driver_ipmi::commands::{
    ChannelAuthCaps, ChassisStatus, Command, DeviceId, PowerState,
};
use drydock_driver_ipmi::crypto::{CipherSuite, SessionKeys};
use drydock_driver_ipmi::message::{Request, Response};
use drydock_driver_ipmi::packet::{PayloadType, V15Packet, V20Packet};
use drydock_driver_ipmi::rakp::{
    Handshake, OpenSessionRequest, OpenSessionResponse, Rakp1, Rakp2, Rakp3, Rakp4,
};
use drydock_driver_ipmi::seq::ReplayWindow;
use drydock_driver_ipmi::{CompletionCode, ProtocolError};
use zeroize::Zeroizing;

const BMC_PORT: u16 = 16230;

/// One UDP datagram of the capture.
struct Datagram {
    from_bmc: bool,
    payload: Vec<u8>,
}

/// Minimal reader for a little-endian classic pcap of Ethernet/IPv4/UDP frames.
///
/// `None` (a visible skip, or a failure under DRYDOCK_REQUIRE_ALL) without the outside corpus.
fn read_capture(test: &str) -> Option<Vec<Datagram>> {
    let pcap = drydock_core::testing::corpus(
        &format!("replay_capture::{test}"),
        "ipmi/ipmi_sim_lanplus_c3.pcap",
    )?;
    let bytes = std::fs::read(&pcap).unwrap_or_else(|e| panic!("reading {}: {e}", pcap.display()));
    assert_eq!(&bytes[..4], &[0xD4, 0xC3, 0xB2, 0xA1], "little-endian pcap");
    assert_eq!(
        u32::from_le_bytes(bytes[20..24].try_into().unwrap()),
        1,
        "Ethernet link type"
    );
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = &bytes[at + 16..at + 16 + caplen];
        at += 16 + caplen;
        let ip = &frame[14..];
        assert_eq!(ip[9], 17, "UDP");
        let udp = &ip[usize::from(ip[0] & 0x0F) * 4..];
        let src = u16::from_be_bytes([udp[0], udp[1]]);
        let len = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
        out.push(Datagram {
            from_bmc: src == BMC_PORT,
            payload: udp[8..len].to_vec(),
        });
    }
    Some(out)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn handshake(capture: &[Datagram], password: &[u8]) -> Handshake {
    let rq = V20Packet::decode(&capture[2].payload, None).unwrap();
    let rs = OpenSessionResponse::decode(
        &V20Packet::decode(&capture[3].payload, None)
            .unwrap()
            .payload,
    )
    .unwrap();
    let rakp1 = V20Packet::decode(&capture[4].payload, None)
        .unwrap()
        .payload;
    let rakp2 = Rakp2::decode(
        &V20Packet::decode(&capture[5].payload, None)
            .unwrap()
            .payload,
    )
    .unwrap();
    Handshake {
        suite: CipherSuite::from_id(3).unwrap(),
        console_session_id: u32::from_le_bytes(rq.payload[4..8].try_into().unwrap()),
        bmc_session_id: rs.bmc_session_id,
        console_random: rakp1[8..24].try_into().unwrap(),
        bmc_random: rakp2.bmc_random,
        bmc_guid: rakp2.bmc_guid,
        role: rakp1[24],
        username: rakp1[28..].to_vec(),
        key: Zeroizing::new(password.to_vec()),
    }
}

#[test]
fn session_less_auth_caps() {
    let Some(c) = read_capture("session_less_auth_caps") else {
        return;
    };
    assert_eq!(c.len(), 22);
    let rq = V15Packet::decode(&c[0].payload).unwrap();
    let ours = Request::to_bmc(
        0x06,
        0x38,
        0,
        &Command::get_channel_auth_caps(drydock_driver_ipmi::PrivilegeLevel::Administrator).data,
    );
    assert_eq!(rq.message, ours.encode());
    assert_eq!(
        V15Packet {
            sequence: 0,
            session_id: 0,
            message: ours.encode()
        }
        .encode()
        .unwrap(),
        c[0].payload
    );
    let rs = Response::decode(&V15Packet::decode(&c[1].payload).unwrap().message).unwrap();
    assert_eq!(rs.completion, CompletionCode::Success);
    assert!(ChannelAuthCaps::decode(&rs.data).unwrap().ipmi20);
}

#[test]
fn open_session_and_rakp_match_the_capture() {
    let Some(c) = read_capture("open_session_and_rakp_match_the_capture") else {
        return;
    };
    let suite = CipherSuite::from_id(3).unwrap();
    // Open Session Request: our encoder reproduces ipmitool's payload.
    let rq = V20Packet::decode(&c[2].payload, None).unwrap();
    assert_eq!(rq.header.payload_type, PayloadType::OpenSessionRequest);
    let ours = OpenSessionRequest {
        tag: rq.payload[0],
        max_privilege: 0,
        console_session_id: 0xA0A2_A3A4,
        suite,
    };
    assert_eq!(ours.encode(), rq.payload);
    let wrapped = V20Packet {
        header: rq.header,
        payload: ours.encode(),
    }
    .encode(None, [0; 16])
    .unwrap();
    assert_eq!(wrapped, c[2].payload);

    let rs = OpenSessionResponse::decode(&V20Packet::decode(&c[3].payload, None).unwrap().payload)
        .unwrap();
    assert_eq!(
        (rs.status.0, rs.console_session_id, rs.bmc_session_id),
        (0, 0xA0A2_A3A4, 0x0000_3002)
    );
    assert_eq!(rs.algorithms, [1, 1, 1]);

    let h = handshake(&c, b"password");
    assert_eq!(
        h.console_random.to_vec(),
        hex("7dc03d2ef2840e7971f7ce2edee4c9cf")
    );
    assert_eq!((h.role, h.username.as_slice()), (0x14, &b"admin"[..]));
    let rakp1 = Rakp1 {
        tag: 0,
        bmc_session_id: h.bmc_session_id,
        console_random: h.console_random,
        role: h.role,
        username: h.username.clone(),
    };
    let rakp1_payload = V20Packet::decode(&c[4].payload, None).unwrap().payload;
    assert_eq!(rakp1.encode()[1..], rakp1_payload[1..]);

    // RAKP 2: the BMC's key-exchange auth code verifies with the right password only.
    let rakp2 = Rakp2::decode(&V20Packet::decode(&c[5].payload, None).unwrap().payload).unwrap();
    assert_eq!(
        rakp2.bmc_random.to_vec(),
        hex("18b50f44da219222e433f8e237e38814")
    );
    assert_eq!(
        rakp2.bmc_guid.to_vec(),
        hex("a123456789abcdefa123456789abcdef")
    );
    assert_eq!(
        rakp2.auth_code,
        hex("fe660595267fe4105c98dc9e4af6bd49f474a83a")
    );
    assert!(h.verify_rakp2(&rakp2.auth_code));
    assert!(!handshake(&c, b"Password").verify_rakp2(&rakp2.auth_code));

    // Keys.
    assert_eq!(
        h.sik().to_vec(),
        hex("2616c85e42f7fe251082995c1b4785fee45065bc")
    );
    let keys = SessionKeys::derive(suite, &h.sik());
    assert_eq!(keys.k1(), hex("6727e72af44694a1eb6f06f812b13e7686f76e6e"));
    assert_eq!(keys.k2(), hex("b9ed1d7452cd5b52ba5ba48054696529c8eb84dd"));

    // RAKP 3: our auth code equals ipmitool's.
    let rakp3 = V20Packet::decode(&c[6].payload, None).unwrap().payload;
    let ours = Rakp3 {
        tag: rakp3[0],
        status: drydock_driver_ipmi::rakp::RmcpPlusStatus(0),
        bmc_session_id: h.bmc_session_id,
        auth_code: h.rakp3_auth_code().to_vec(),
    };
    assert_eq!(ours.encode(), rakp3);

    // RAKP 4: the BMC's ICV verifies, and fails once tampered.
    let rakp4 = Rakp4::decode(&V20Packet::decode(&c[7].payload, None).unwrap().payload).unwrap();
    assert_eq!(rakp4.console_session_id, 0xA0A2_A3A4);
    assert!(h.verify_rakp4(&rakp4.icv));
    let mut bad = rakp4.icv.clone();
    bad[0] ^= 1;
    assert!(!h.verify_rakp4(&bad));
}

#[test]
fn every_session_packet_verifies_decrypts_and_reencodes() {
    let expected = [
        "2018c881043b043c",
        "811c6320043b00049d",
        "20b03081083e000237",
        "81b4cb20083ec1d9",
        "2018c8810c0172",
        "811c63200c010000030908029f911200020f000000006a",
        "20b030811000006f",
        "81b4cb201000c10f",
        "20b0308114000368",
        "81b4cb201400c10b",
        "2000e081180166",
        "81047b20180100000000c7",
        "2018c8811c3c02300000f5",
        "811c63201c3c0088",
    ];
    let Some(c) = read_capture("every_session_packet_verifies_decrypts_and_reencodes") else {
        return;
    };
    let h = handshake(&c, b"password");
    let keys = SessionKeys::derive(h.suite, &h.sik());
    let mut window = ReplayWindow::default();
    for (i, (d, want)) in c[8..].iter().zip(expected).enumerate() {
        let p = V20Packet::decode(&d.payload, Some(&keys))
            .unwrap_or_else(|e| panic!("packet #{}: {e}", i + 8));
        assert_eq!(p.payload, hex(want), "packet #{}", i + 8);
        assert!(p.header.encrypted && p.header.authenticated);
        let sid = if d.from_bmc {
            h.console_session_id
        } else {
            h.bmc_session_id
        };
        assert_eq!(p.header.session_id, sid);
        if d.from_bmc {
            window.accept(p.header.sequence).unwrap();
            Response::decode(&p.payload).unwrap();
        } else {
            Request::decode(&p.payload).unwrap();
        }
        // Re-encoding with the packet's own IV reproduces it byte for byte.
        let iv: [u8; 16] = d.payload[16..32].try_into().unwrap();
        assert_eq!(
            p.encode(Some(&keys), iv).unwrap(),
            d.payload,
            "re-encoding packet #{}",
            i + 8
        );
        // A flipped bit anywhere in the signed region is caught by the integrity check.
        let mut bad = d.payload.clone();
        bad[20] ^= 0x01;
        assert_eq!(
            V20Packet::decode(&bad, Some(&keys)),
            Err(ProtocolError::Integrity)
        );
    }
    // The decrypted chassis status says power off; Get Device ID decodes.
    let status = Response::decode(&hex(expected[11])).unwrap();
    assert_eq!(
        ChassisStatus::decode(&status.data).unwrap().power,
        PowerState::Off
    );
    let dev = Response::decode(&hex(expected[5])).unwrap();
    assert_eq!(DeviceId::decode(&dev.data).unwrap().manufacturer_id, 0x1291);
    // The close request carries the BMC's session ID.
    let close = Request::decode(&hex(expected[12])).unwrap();
    assert_eq!(close.data, Command::close_session(h.bmc_session_id).data);
}
