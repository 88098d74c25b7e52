//! Wire-level tests of the client against a recording HTTP server on 127.0.0.1.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use drydock_driver_maas::{MaasApiKey, MaasClient, MaasError, Params, oauth};

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: String,
    auth: String,
    content_type: String,
    body: String,
}

/// Extra response headers.
type Headers = Vec<(&'static str, String)>;

#[derive(Default)]
struct Script {
    seen: Vec<Seen>,
    replies: VecDeque<(u16, Headers, String)>,
}

type Shared = Arc<Mutex<Script>>;

async fn record(
    State(s): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let mut s = s.lock().unwrap();
    s.seen.push(Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or("").to_owned(),
        auth: h("authorization"),
        content_type: h("content-type"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let (status, hdrs, body) = s.replies.pop_front().unwrap_or((200, vec![], "{}".into()));
    let mut resp = (StatusCode::from_u16(status).unwrap(), body).into_response();
    for (k, v) in hdrs {
        resp.headers_mut().insert(k, v.parse().unwrap());
    }
    resp
}

async fn server(replies: Vec<(u16, Headers, &str)>) -> (String, Shared) {
    let state: Shared = Arc::new(Mutex::new(Script {
        seen: vec![],
        replies: replies
            .into_iter()
            .map(|(s, h, b)| (s, h, b.to_owned()))
            .collect(),
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().fallback(record).with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/MAAS"), state)
}

fn key() -> MaasApiKey {
    "ck123:tk456:secret789".parse().unwrap()
}

fn client(url: &str, retries: u32) -> MaasClient {
    MaasClient::builder(url, key())
        .max_retries(retries)
        .max_retry_wait(Duration::ZERO)
        .build()
        .unwrap()
}

fn auth_params(header: &str) -> HashMap<String, String> {
    oauth::parse_authorization(header)
        .expect("OAuth header")
        .into_iter()
        .collect()
}

#[tokio::test]
async fn authorization_header_carries_every_oauth_parameter() {
    let (url, state) = server(vec![]).await;
    let before = oauth::unix_now();
    let _: serde_json::Value = client(&url, 0)
        .get("machines/", None, &Params::new())
        .await
        .unwrap();
    let seen = state.lock().unwrap().seen.clone();
    assert_eq!(seen.len(), 1);
    let header = &seen[0].auth;
    assert!(header.starts_with("OAuth "), "{header}");
    assert!(
        header.contains(r#"oauth_signature="%26secret789""#),
        "PLAINTEXT signature &<secret>: {header}"
    );
    let p = auth_params(header);
    assert_eq!(p["oauth_consumer_key"], "ck123");
    assert_eq!(p["oauth_token"], "tk456");
    assert_eq!(p["oauth_signature_method"], "PLAINTEXT");
    assert_eq!(p["oauth_signature"], "&secret789");
    assert_eq!(p["oauth_version"], "1.0");
    assert!(!p["oauth_nonce"].is_empty());
    let ts: u64 = p["oauth_timestamp"].parse().unwrap();
    assert!(ts >= before && ts <= oauth::unix_now());
    assert_eq!(seen[0].path, "/MAAS/api/2.0/machines/");
}

#[tokio::test]
async fn op_goes_in_the_query_and_lists_are_repeated_keys() {
    let (url, state) = server(vec![]).await;
    let c = client(&url, 0);
    let p = Params::new()
        .with("name", "bond0")
        .with_list("parents", [3, 4])
        .with_bool("force", false);
    let _: serde_json::Value = c
        .post("nodes/abc123/interfaces/", Some("create_bond"), &p)
        .await
        .unwrap();
    let _: serde_json::Value = c
        .get(
            "machines/",
            None,
            &Params::new().with_list("hostname", ["a", "b"]),
        )
        .await
        .unwrap();
    let seen = state.lock().unwrap().seen.clone();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].query, "op=create_bond");
    assert_eq!(seen[0].content_type, "application/x-www-form-urlencoded");
    assert_eq!(seen[0].body, "name=bond0&parents=3&parents=4&force=false");
    assert_eq!(seen[1].method, "GET");
    assert_eq!(seen[1].query, "hostname=a&hostname=b");
    assert_eq!(seen[1].body, "");
}

#[tokio::test]
async fn a_503_with_retry_after_is_retried_with_a_fresh_nonce() {
    let ra = vec![("retry-after", "10".to_owned())];
    let (url, state) = server(vec![(503, ra.clone(), "rack down"), (503, ra, "rack down")]).await;
    let m: serde_json::Value = client(&url, 4)
        .post("machines/abc123/", Some("deploy"), &Params::new())
        .await
        .expect("third attempt succeeds");
    assert_eq!(m, serde_json::json!({}));
    let seen = state.lock().unwrap().seen.clone();
    assert_eq!(seen.len(), 3);
    let nonces: Vec<String> = seen
        .iter()
        .map(|s| auth_params(&s.auth)["oauth_nonce"].clone())
        .collect();
    assert_ne!(nonces[0], nonces[1]);
    assert_ne!(nonces[1], nonces[2]);
    assert_ne!(nonces[0], nonces[2]);
}

#[tokio::test]
async fn a_post_is_not_blindly_retried() {
    for (status, headers) in [
        (504, vec![]),
        (500, vec![]),
        (502, vec![]),
        (503, vec![]),
        (409, vec![]),
    ] {
        let (url, state) = server(vec![(status, headers, "boom")]).await;
        let err = client(&url, 4)
            .post::<serde_json::Value>("machines/", Some("allocate"), &Params::new())
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.body(), Some("boom"));
        assert_eq!(
            state.lock().unwrap().seen.len(),
            1,
            "POST answered {status} must not be retried"
        );
    }
}

#[tokio::test]
async fn a_get_is_retried_on_gateway_errors_and_a_409_with_retry_after_on_any_verb() {
    let (url, state) = server(vec![(502, vec![], "proxy"), (504, vec![], "gw")]).await;
    let _: serde_json::Value = client(&url, 4)
        .get("machines/", None, &Params::new())
        .await
        .unwrap();
    assert_eq!(state.lock().unwrap().seen.len(), 3);

    let ra = vec![("retry-after", "5".to_owned())];
    let (url, state) = server(vec![(409, ra, "<html>conflict</html>")]).await;
    let _: serde_json::Value = client(&url, 4)
        .post("tags/", None, &Params::new())
        .await
        .unwrap();
    assert_eq!(state.lock().unwrap().seen.len(), 2);
}

#[tokio::test]
async fn retries_are_bounded_and_the_last_error_is_classified() {
    let replies: Vec<_> = (0..10)
        .map(|_| (503, vec![("retry-after", "1".to_owned())], "still down"))
        .collect();
    let (url, state) = server(replies).await;
    let err = client(&url, 3)
        .get::<serde_json::Value>("version/", None, &Params::new())
        .await
        .unwrap_err();
    assert_eq!(state.lock().unwrap().seen.len(), 4, "1 attempt + 3 retries");
    match &err {
        MaasError::Unavailable {
            status: 503,
            body,
            retry_after,
            ..
        } => {
            assert_eq!(body, "still down");
            assert_eq!(*retry_after, Some(Duration::from_secs(1)));
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(err.is_retryable());
}

#[tokio::test]
async fn error_statuses_map_to_classified_errors() {
    let cases: Vec<(u16, &str)> = vec![
        (401, "Authorization Error: Invalid API key."),
        (403, "forbidden"),
        (404, "No Machine matches the given query."),
        (409, "Invalid transition: New -> Deploying."),
        (400, r#"{"name": ["Tag with this Name already exists."]}"#),
    ];
    for (status, body) in cases {
        let (url, _) = server(vec![(status, vec![], body)]).await;
        let err = client(&url, 0)
            .get::<serde_json::Value>("x/", None, &Params::new())
            .await
            .unwrap_err();
        let ok = match (&err, status) {
            (MaasError::Unauthorized { .. }, 401)
            | (MaasError::Forbidden { .. }, 403)
            | (MaasError::NotFound { .. }, 404)
            | (MaasError::InvalidTransition { .. }, 409) => true,
            (MaasError::BadRequest { fields, .. }, 400) => {
                fields["name"] == ["Tag with this Name already exists."]
            }
            _ => false,
        };
        assert!(ok, "{status} mapped to {err:?}");
        assert_eq!(err.body(), Some(body));
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn undecodable_bodies_are_decode_errors_with_the_text() {
    let (url, _) = server(vec![(200, vec![], "<html>login</html>")]).await;
    let err = client(&url, 0)
        .get::<serde_json::Value>("machines/", None, &Params::new())
        .await
        .unwrap_err();
    match err {
        MaasError::Decode { body, .. } => assert_eq!(body, "<html>login</html>"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn connection_refused_is_a_transport_error_not_sent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = client(&format!("http://{addr}/MAAS"), 0)
        .post::<serde_json::Value>("machines/", Some("allocate"), &Params::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            MaasError::Transport {
                maybe_sent: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.outcome_unknown());
}

#[test]
fn builder_rejects_bad_ca_and_urls() {
    let err = MaasClient::builder("http://127.0.0.1/MAAS", key())
        .ca_certificate_pem("not a pem")
        .build()
        .unwrap_err();
    assert!(matches!(err, MaasError::Config(_)), "{err:?}");
    assert!(MaasClient::new("ftp://127.0.0.1/MAAS", key()).is_err());
    let c = MaasClient::builder("http://127.0.0.1/MAAS/", key())
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    assert_eq!(c.base_url().as_str(), "http://127.0.0.1/MAAS/api/2.0/");
    assert!(
        !format!("{c:?}").contains("secret789"),
        "Debug of the client never shows the secret"
    );
}
