//! Failure classification without a real BMC: silence, garbage, and half-valid answers on
//! loopback UDP sockets owned by the test.

use std::time::Duration;

use drydock_driver_ipmi::message::Response;
use drydock_driver_ipmi::packet::V15Packet;
use drydock_driver_ipmi::{CompletionCode, Error, ErrorKind, IpmiClient, IpmiConfig};
use rand::RngCore;
use tokio::net::UdpSocket;

fn config(port: u16) -> IpmiConfig {
    IpmiConfig::new("127.0.0.1", "admin", "password")
        .with_port(port)
        .with_timeout(Duration::from_millis(200))
        .with_retries(2)
}

/// Liveness guard only: far above the configured bound (3 x 200 ms per exchange).
const GUARD: Duration = Duration::from_secs(30);

/// A fake BMC that answers every datagram with `reply(request)`, until the test ends.
async fn fake_bmc(reply: impl Fn(&[u8]) -> Vec<u8> + Send + 'static) -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut buf = [0u8; 1024];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let _ = socket.send_to(&reply(&buf[..n]), from).await;
        }
    });
    port
}

#[tokio::test]
async fn unreachable_bmc_times_out() {
    // A port nobody listens on: bound, then released.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = tokio::time::timeout(GUARD, IpmiClient::connect(&config(port)))
        .await
        .expect("connect must end within the configured bound")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(matches!(err, Error::Timeout { attempts: 3, .. }), "{err:?}");
    assert!(err.is_retryable());
    let err = IpmiClient::ping(&config(port)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
}

#[tokio::test]
async fn silent_bmc_times_out() {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    let err = tokio::time::timeout(GUARD, IpmiClient::connect(&config(port)))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    // Every attempt reached the socket: 1 + 2 retries.
    let mut buf = [0u8; 256];
    for _ in 0..3 {
        let (n, _) = socket
            .try_recv_from(&mut buf)
            .expect("one datagram per attempt");
        assert!(V15Packet::decode(&buf[..n]).is_ok());
    }
    assert!(socket.try_recv_from(&mut buf).is_err());
}

#[tokio::test]
async fn random_bytes_are_a_protocol_error() {
    let port = fake_bmc(|_| {
        let mut junk = vec![0u8; 1 + (rand::random::<u8>() as usize)];
        rand::rng().fill_bytes(&mut junk);
        junk
    })
    .await;
    let err = tokio::time::timeout(GUARD, IpmiClient::connect(&config(port)))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
}

#[tokio::test]
async fn plausible_headers_with_random_bodies_are_a_protocol_error() {
    // An RMCP/IPMI header followed by noise: gets further into the parsers.
    let port = fake_bmc(|req| {
        let mut junk = req.to_vec();
        rand::rng().fill_bytes(&mut junk[4..]);
        junk[4] = if rand::random::<bool>() { 0x00 } else { 0x06 };
        junk
    })
    .await;
    let err = tokio::time::timeout(GUARD, IpmiClient::connect(&config(port)))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
}

#[tokio::test]
async fn ipmi15_only_bmc_is_unsupported() {
    // Answers Get Channel Authentication Capabilities without the IPMI 2.0 bit.
    let port = fake_bmc(|req| {
        let p = V15Packet::decode(req).unwrap();
        let rq = drydock_driver_ipmi::message::Request::decode(&p.message).unwrap();
        let rs = Response {
            rq_addr: rq.rq_addr,
            netfn: rq.netfn + 1,
            rq_lun: 0,
            rs_addr: rq.rs_addr,
            rq_seq: rq.rq_seq,
            rs_lun: 0,
            cmd: rq.cmd,
            completion: CompletionCode::Success,
            data: vec![0x01, 0x17, 0x06, 0x01, 0, 0, 0, 0],
        };
        V15Packet {
            sequence: 0,
            session_id: 0,
            message: rs.encode(),
        }
        .encode()
        .unwrap()
    })
    .await;
    let err = tokio::time::timeout(GUARD, IpmiClient::connect(&config(port)))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
}
