//! Session-layer behaviour against a scripted RMCP+ BMC: cipher suite 17 selection and use,
//! retransmission, duplicate answers, and Close Session on every path.

mod common;

use std::time::Duration;

use common::fake_bmc::{Event, Script, start};
use drydock_driver_ipmi::{
    Error, ErrorKind, IpmiClient, IpmiConfig, PowerAction, PowerState, ProtocolError,
};

fn config(port: u16) -> IpmiConfig {
    IpmiConfig::new("127.0.0.1", "admin", "password")
        .with_port(port)
        .with_timeout(Duration::from_millis(300))
        .with_retries(3)
}

fn events(log: &std::sync::Mutex<Vec<Event>>) -> Vec<Event> {
    log.lock().unwrap().clone()
}

#[tokio::test]
async fn suite_17_is_preferred_and_works() {
    let (port, log) = start(Script::default()).await;
    let client = IpmiClient::connect(&config(port)).await.unwrap();
    assert_eq!(client.cipher_suite(), 17);
    client.power(PowerAction::On).await.unwrap();
    assert_eq!(client.power_state().await.unwrap(), PowerState::On);
    client.close().await.unwrap();
    assert_eq!(
        events(&log),
        [
            Event::Active(17),
            Event::Command(0x06, 0x3B),
            Event::Command(0x00, 0x02),
            Event::Command(0x00, 0x01),
            Event::Command(0x06, 0x3C),
            Event::Closed,
        ]
    );
}

#[tokio::test]
async fn suite_3_when_17_is_not_listed_or_refused() {
    let (port, log) = start(Script {
        listed: vec![3],
        ..Script::default()
    })
    .await;
    assert_eq!(
        IpmiClient::connect(&config(port))
            .await
            .unwrap()
            .cipher_suite(),
        3
    );
    assert_eq!(events(&log)[0], Event::Active(3));
    // Listed but refused at Open Session: falls back to 3.
    let (port, _) = start(Script {
        accepted: vec![3],
        ..Script::default()
    })
    .await;
    assert_eq!(
        IpmiClient::connect(&config(port))
            .await
            .unwrap()
            .cipher_suite(),
        3
    );
    // Forced and refused: a typed error, not a fallback.
    let err = IpmiClient::connect(&config(port).with_cipher_suite(17))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
}

#[tokio::test]
async fn lost_datagrams_are_retransmitted() {
    let (port, log) = start(Script {
        drop_first: true,
        ..Script::default()
    })
    .await;
    let client = IpmiClient::connect(&config(port)).await.unwrap();
    client.power(PowerAction::On).await.unwrap();
    assert_eq!(client.power_state().await.unwrap(), PowerState::On);
    client.close().await.unwrap();
    let log = events(&log);
    // The first datagram of every exchange was lost, and the retransmission went through:
    // auth caps, cipher suites (both framings of the first attempt), Open Session, RAKP 1,
    // RAKP 3 and the four commands.
    let dropped: Vec<_> = log
        .iter()
        .filter(|e| matches!(e, Event::Dropped(..)))
        .collect();
    assert_eq!(dropped.len(), 10, "{log:?}");
    let rest: Vec<_> = log
        .iter()
        .filter(|e| !matches!(e, Event::Dropped(..)))
        .cloned()
        .collect();
    assert_eq!(
        rest,
        [
            Event::Active(17),
            Event::Command(0x06, 0x3B),
            Event::Command(0x00, 0x02),
            Event::Command(0x00, 0x01),
            Event::Command(0x06, 0x3C),
            Event::Closed,
        ]
    );
}

#[tokio::test]
async fn duplicate_answers_are_ignored() {
    let (port, _) = start(Script {
        duplicate: true,
        ..Script::default()
    })
    .await;
    let client = IpmiClient::connect(&config(port)).await.unwrap();
    for _ in 0..5 {
        assert_eq!(client.power_state().await.unwrap(), PowerState::Off);
    }
    client.power(PowerAction::On).await.unwrap();
    assert_eq!(client.power_state().await.unwrap(), PowerState::On);
    client.close().await.unwrap();
}

#[tokio::test]
async fn wrong_credentials_are_unauthorized() {
    let (port, log) = start(Script::default()).await;
    let mut c = config(port);
    c.password = "wrong".into();
    assert_eq!(
        IpmiClient::connect(&c).await.unwrap_err().kind(),
        ErrorKind::Unauthorized
    );
    let mut c = config(port);
    c.username = "root".into();
    assert_eq!(
        IpmiClient::connect(&c).await.unwrap_err().kind(),
        ErrorKind::Unauthorized
    );
    assert!(events(&log).is_empty());
}

#[tokio::test]
async fn refused_privilege_closes_the_session() {
    let (port, log) = start(Script {
        set_privilege_cc: 0x81,
        ..Script::default()
    })
    .await;
    let err = IpmiClient::connect(&config(port)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    assert_eq!(events(&log).last(), Some(&Event::Closed));
}

#[tokio::test]
async fn dropping_the_client_sends_close_session() {
    let (port, log) = start(Script::default()).await;
    let client = IpmiClient::connect(&config(port)).await.unwrap();
    client.power_state().await.unwrap();
    drop(client);
    let closed = common::poll(50, || async {
        events(&log).contains(&Event::Closed).then_some(())
    })
    .await;
    assert!(closed.is_some(), "{:?}", events(&log));
}

#[tokio::test]
async fn the_cipher_suite_probe_goes_in_both_framings_and_either_answer_is_read() {
    // Only suite 17 is listed: the client picks it only if it read the probe's answer.
    for v15_answer in [false, true] {
        let script = Script {
            listed: vec![17],
            answer_session_less_v15: v15_answer,
            ..Script::default()
        };
        let seen = script.session_less_seen.clone();
        let (port, log) = start(script).await;
        let client = IpmiClient::connect(&config(port)).await.unwrap();
        assert_eq!(
            client.cipher_suite(),
            17,
            "answer in IPMI 1.5: {v15_answer}"
        );
        client.close().await.unwrap();
        assert_eq!(events(&log)[0], Event::Active(17));
        // Get Channel Authentication Capabilities in IPMI 1.5 framing; Get Channel Cipher Suites
        // in RMCP+ framing (as ipmitool) and in IPMI 1.5 framing (what ipmi_sim answers), once
        // each: the first answer was taken.
        assert_eq!(
            *seen.lock().unwrap(),
            [(0x38, false), (0x54, true), (0x54, false)]
        );
    }
}

#[tokio::test]
async fn a_bmc_session_id_of_zero_is_refused() {
    let (port, log) = start(Script {
        bmc_session_id: 0,
        ..Script::default()
    })
    .await;
    let err = IpmiClient::connect(&config(port)).await.unwrap_err();
    assert!(
        matches!(err, Error::Protocol(ProtocolError::ZeroSessionId { .. })),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(events(&log).is_empty(), "no session became active");
}

#[tokio::test]
async fn datagrams_with_trailing_garbage_are_refused() {
    for (garbage, oversized) in [(3, false), (60 * 1024, true)] {
        let (port, log) = start(Script {
            trailing_garbage: garbage,
            ..Script::default()
        })
        .await;
        let config = config(port).with_retries(1);
        let err = IpmiClient::connect(&config).await.unwrap_err();
        let expected = if oversized {
            matches!(err, Error::Protocol(ProtocolError::Oversized { max: 1024 }))
        } else {
            matches!(
                err,
                Error::Protocol(ProtocolError::TrailingBytes { count: 3, .. })
            )
        };
        assert!(expected, "{garbage} bytes of garbage: {err:?}");
        assert!(err.is_retryable());
        assert!(events(&log).is_empty());
    }
}

#[tokio::test]
async fn an_unknown_user_dropped_by_the_bmc_fails_without_the_whole_retry_budget() {
    let (port, log) = start(Script {
        silent_on_unknown_user: true,
        ..Script::default()
    })
    .await;
    let mut c = config(port).with_retries(6);
    c.username = "nobody".into();
    let err = IpmiClient::connect(&c).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("RAKP 1 (sent 2 time(s))") && text.contains("\"nobody\""),
        "{text}"
    );
    assert!(!text.contains("password"), "{text}");
    assert!(events(&log).is_empty());
}
