//! The client against dead and hostile peers: small raw TCP servers on 127.0.0.1 that refuse,
//! hang, trickle, redirect forever, or send endless and enormous bodies. Every case must fail
//! within the client's configured bounds, with an error naming the peer (`host:port`) and the
//! reason, and without reading an endless or huge body into memory.
//!
//! The elapsed-time checks are hang guards with generous slack (the bound plus
//! [`SLACK`]), not performance measurements.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use drydock_core::driver::{DriverErrorKind, NodeDriver};
use drydock_driver_maas::{MaasClient, MaasDriver, MaasDriverConfig, MaasError, Params};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Allowed lateness beyond a configured bound (a loaded machine runs tests slowly).
const SLACK: Duration = Duration::from_secs(5);
const HEADER_TIMEOUT: Duration = Duration::from_millis(800);
const BODY_TIMEOUT: Duration = Duration::from_millis(800);
/// How long a misbehaving server goes on at most (bounds every server loop).
const SERVER_LIFETIME: Duration = Duration::from_secs(60);

/// What a server did: requests seen and body bytes it managed to write.
#[derive(Default)]
struct Seen {
    requests: AtomicUsize,
    written: AtomicU64,
}

/// Starts a server on 127.0.0.1 running `behave` on every connection once the request head is
/// read; returns its base URL, its `host:port` and what it saw.
async fn serve<F, Fut>(behave: F) -> (String, String, Arc<Seen>)
where
    F: Fn(TcpStream, Arc<Seen>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let behave = Arc::new(behave);
    let shared = Arc::clone(&seen);
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + SERVER_LIFETIME;
        while let Ok(Ok((mut stream, _))) =
            tokio::time::timeout_at(deadline, listener.accept()).await
        {
            let (behave, seen) = (Arc::clone(&behave), Arc::clone(&shared));
            tokio::spawn(async move {
                if read_head(&mut stream).await {
                    seen.requests.fetch_add(1, Ordering::SeqCst);
                    let _ = tokio::time::timeout(SERVER_LIFETIME, behave(stream, seen)).await;
                }
            });
        }
    });
    (format!("http://{addr}/MAAS"), addr.to_string(), seen)
}

/// Reads a request head (up to 64 KiB); false if the client went away first.
async fn read_head(stream: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while head.len() < 64 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            return true;
        }
    }
    false
}

fn client(url: &str) -> MaasClient {
    MaasClient::builder(url, "ck:tk:secret".parse().unwrap())
        .connect_timeout(Duration::from_secs(2))
        .header_timeout(HEADER_TIMEOUT)
        .body_timeout(BODY_TIMEOUT)
        .max_body_bytes(1024 * 1024)
        .max_retry_wait(Duration::from_millis(300))
        .retry_budget(Duration::from_secs(2))
        .build()
        .unwrap()
}

/// Runs a GET against `url` and returns its error and how long it took, failing the test if it
/// does not end within `bound` plus [`SLACK`].
async fn get_fails(url: &str, bound: Duration) -> (MaasError, Duration) {
    let start = Instant::now();
    let result = tokio::time::timeout(
        bound + SLACK,
        client(url).get::<serde_json::Value>("machines/", None, &Params::new()),
    )
    .await
    .unwrap_or_else(|_| panic!("no failure within {:?}", bound + SLACK));
    let elapsed = start.elapsed();
    let err = result.expect_err("a hostile peer cannot succeed");
    (err, elapsed)
}

fn assert_names(err: &MaasError, peer: &str, reason: &str) {
    let text = err.to_string();
    assert!(text.contains(peer), "names the peer {peer}: {text}");
    assert!(
        text.to_lowercase().contains(&reason.to_lowercase()),
        "says why ({reason}): {text}"
    );
    assert!(
        !text.chars().any(char::is_control),
        "no control characters: {text:?}"
    );
}

#[tokio::test]
async fn refused_connections_fail_at_once_without_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = listener.local_addr().unwrap().to_string();
    drop(listener);
    let (err, elapsed) = get_fails(&format!("http://{peer}/MAAS"), Duration::ZERO).await;
    assert!(matches!(err, MaasError::Transport { .. }), "{err:?}");
    assert!(err.is_retryable(), "the orchestrator may retry it later");
    assert_names(&err, &peer, "refused");
    eprintln!("refused: failed after {elapsed:?}: {err}");
}

#[tokio::test]
async fn accept_and_hang_fails_at_the_header_timeout() {
    let (url, peer, seen) = serve(|stream, _| async move {
        tokio::time::sleep(SERVER_LIFETIME).await;
        drop(stream);
    })
    .await;
    let (err, elapsed) = get_fails(&url, HEADER_TIMEOUT).await;
    assert!(matches!(err, MaasError::Timeout { .. }), "{err:?}");
    assert_names(&err, &peer, "no answer");
    assert!(elapsed >= HEADER_TIMEOUT, "{elapsed:?}");
    assert_eq!(
        seen.requests.load(Ordering::SeqCst),
        1,
        "a timeout is not retried"
    );
}

#[tokio::test]
async fn slowloris_headers_fail_at_the_header_timeout() {
    let (url, peer, _) = serve(|mut stream, _| async move {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n").await;
        // One header byte every 100 ms: never idle long enough for a read timeout.
        for _ in 0..600 {
            if stream.write_all(b"X").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let (err, _) = get_fails(&url, HEADER_TIMEOUT).await;
    assert!(matches!(err, MaasError::Timeout { .. }), "{err:?}");
    assert_names(&err, &peer, "no answer");
}

#[tokio::test]
async fn a_slowloris_body_fails_at_the_body_timeout() {
    let (url, peer, _) = serve(|mut stream, _| async move {
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n[";
        let _ = stream.write_all(head.as_bytes()).await;
        for _ in 0..600 {
            if stream.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let (err, _) = get_fails(&url, HEADER_TIMEOUT + BODY_TIMEOUT).await;
    assert!(matches!(err, MaasError::Timeout { .. }), "{err:?}");
    assert_names(&err, &peer, "did not arrive within");
}

#[tokio::test]
async fn retry_after_99999999_is_capped_and_the_budget_ends_the_retries() {
    let (url, peer, seen) = serve(|mut stream, _| async move {
        let _ = stream
            .write_all(
                b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 99999999\r\n\
                  content-length: 9\r\n\r\nbusy busy",
            )
            .await;
    })
    .await;
    // Budget 2 s, waits capped at 300 ms: a handful of attempts, then the 503.
    let (err, _) = get_fails(&url, Duration::from_secs(2) + HEADER_TIMEOUT).await;
    match &err {
        MaasError::Unavailable {
            status: 503,
            retry_after,
            ..
        } => assert_eq!(
            *retry_after,
            Some(Duration::from_secs(99_999_999)),
            "as MAAS said"
        ),
        other => panic!("{other:?}"),
    }
    assert_names(&err, &peer, "unavailable (503)");
    let attempts = seen.requests.load(Ordering::SeqCst);
    assert!(
        (2..=5).contains(&attempts),
        "1 + at most 4 retries: {attempts}"
    );
}

#[tokio::test]
async fn a_redirect_loop_is_not_followed() {
    let (url, peer, seen) = serve(|mut stream, _| async move {
        let _ = stream
            .write_all(
                b"HTTP/1.1 302 Found\r\nlocation: /MAAS/api/2.0/machines/\r\n\
                  content-length: 0\r\n\r\n",
            )
            .await;
    })
    .await;
    let (err, _) = get_fails(&url, HEADER_TIMEOUT).await;
    assert!(
        matches!(err, MaasError::Redirect { status: 302, .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_names(&err, &peer, "redirect");
    assert!(err.to_string().contains("/MAAS/api/2.0/machines/"), "{err}");
    assert_eq!(seen.requests.load(Ordering::SeqCst), 1, "not followed");
}

/// Writes `chunk` over and over, at most `total` bytes, until the client goes away.
async fn pour(stream: &mut TcpStream, seen: &Seen, chunk: &[u8], total: u64) {
    let mut sent = 0;
    while sent < total {
        if stream.write_all(chunk).await.is_err() {
            return;
        }
        sent += chunk.len() as u64;
        seen.written.store(sent, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn an_endless_chunked_body_stops_at_the_size_limit() {
    let (url, peer, seen) = serve(|mut stream, seen| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        let _ = stream.write_all(head.as_bytes()).await;
        let mut chunk = format!("{:x}\r\n", 16 * 1024).into_bytes();
        chunk.extend(std::iter::repeat_n(b' ', 16 * 1024));
        chunk.extend_from_slice(b"\r\n");
        // "Endless": 8 GiB, far beyond anything the client may read.
        pour(&mut stream, &seen, &chunk, 8 << 30).await;
    })
    .await;
    let (err, _) = get_fails(&url, HEADER_TIMEOUT + BODY_TIMEOUT).await;
    assert!(
        matches!(
            err,
            MaasError::TooLarge {
                limit: 1_048_576,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_names(&err, &peer, "larger than the limit");
    // The client stopped reading: the server could not push much past the limit and the
    // socket buffers.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let written = seen.written.load(Ordering::SeqCst);
    assert!(written < 64 << 20, "the server wrote {written} bytes");
}

#[tokio::test]
async fn a_declared_huge_success_body_is_refused_before_reading() {
    let (url, peer, seen) = serve(|mut stream, seen| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\n\r\n";
        let _ = stream.write_all(head.as_bytes()).await;
        pour(&mut stream, &seen, &[b' '; 64 * 1024], 1 << 30).await;
    })
    .await;
    let (err, _) = get_fails(&url, HEADER_TIMEOUT).await;
    assert!(matches!(err, MaasError::TooLarge { .. }), "{err:?}");
    assert_names(&err, &peer, "larger than the limit");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(seen.written.load(Ordering::SeqCst) < 64 << 20);
}

#[tokio::test]
async fn a_1_gib_error_body_is_read_only_as_far_as_needed_and_escaped() {
    let (url, peer, seen) = serve(|mut stream, seen| async move {
        let head =
            "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 1073741824\r\n\r\nboom \x1b[31mred\x1b]0;title\x07 ";
        let _ = stream.write_all(head.as_bytes()).await;
        pour(&mut stream, &seen, &[b'x'; 64 * 1024], 1 << 30).await;
    })
    .await;
    let (err, _) = get_fails(&url, HEADER_TIMEOUT + BODY_TIMEOUT).await;
    let MaasError::Server {
        status: 500, body, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert!(
        body.starts_with("boom \\u{1b}[31mred\\u{1b}]0;title\\u{7} xxx"),
        "{body:.80}"
    );
    assert!(
        body.ends_with("more bytes)"),
        "cut: {}",
        &body[body.len() - 40..]
    );
    assert!(body.len() < 4 * 1024, "{} bytes kept", body.len());
    assert_names(&err, &peer, "answered 500");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let written = seen.written.load(Ordering::SeqCst);
    assert!(
        written < 64 << 20,
        "the server wrote {written} bytes of 1 GiB"
    );
}

#[tokio::test]
async fn the_driver_does_not_multiply_retries_and_classifies_for_the_orchestrator() {
    // A dead MAAS: one failing attempt per operation, classified transient.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = listener.local_addr().unwrap().to_string();
    drop(listener);
    let config = MaasDriverConfig::new(format!("http://{peer}/MAAS"), "a:b:c".parse().unwrap());
    assert_eq!(
        config.retries, 0,
        "the orchestrator's policy is the one that retries"
    );
    let driver = MaasDriver::new(config).unwrap();
    let start = Instant::now();
    let err = tokio::time::timeout(SLACK, driver.validate_services())
        .await
        .expect("a dead MAAS fails at once")
        .unwrap_err();
    assert_eq!(err.kind, DriverErrorKind::Transient);
    assert!(err.to_string().contains(&peer), "{err}");
    eprintln!(
        "dead MAAS: the driver failed after {:?}: {err}",
        start.elapsed()
    );

    // A MAAS that always answers 503 with a huge Retry-After: the client's capped retries
    // within its budget, and nothing on top.
    let (url, peer, seen) = serve(|mut stream, _| async move {
        let _ = stream
            .write_all(b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 99999999\r\ncontent-length: 0\r\n\r\n")
            .await;
    })
    .await;
    let config = MaasDriverConfig::new(url, "a:b:c".parse().unwrap())
        .max_retry_wait(Duration::from_millis(200))
        .retry_budget(Duration::from_secs(1))
        .timeouts(Duration::from_secs(1), HEADER_TIMEOUT, BODY_TIMEOUT);
    let driver = MaasDriver::new(config).unwrap();
    let err = tokio::time::timeout(Duration::from_secs(1) + SLACK, driver.validate_services())
        .await
        .expect("bounded")
        .unwrap_err();
    assert_eq!(err.kind, DriverErrorKind::Transient);
    assert!(err.to_string().contains(&peer), "{err}");
    let attempts = seen.requests.load(Ordering::SeqCst);
    assert!(
        (2..=5).contains(&attempts),
        "one request's retries only: {attempts}"
    );
}
