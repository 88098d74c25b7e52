//! Bad requests never crash or hang the server: malformed JSON, wrong content types, huge
//! bodies, unknown actions and ids, and design references that time out, fail or return
//! garbage (test servers on 127.0.0.1). Also: the bearer token layer, Keystone service
//! headers, and graceful shutdown.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use drydock_api::ApiConfig;
use drydock_api::auth::{Auth, Policy, Token};
use drydock_api::design_ref::ResolverConfig;
use serde_json::{Value, json};

/// Design servers misbehaving in every way a reference can: a listener that never answers, and
/// an HTTP server answering garbage, YAML that is no design, a 500 (counting attempts), and a
/// design larger than the limit.
struct BadPeers {
    hang: String,
    http: String,
    attempts: Arc<AtomicUsize>,
    _tasks: Vec<AbortOnDrop>,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn bad_peers() -> BadPeers {
    let hang = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hang_addr = hang.local_addr().unwrap();
    let hang_task = tokio::spawn(async move {
        let mut held = Vec::new();
        // Bounded: the test aborts this task when done.
        while let Ok((sock, _)) = hang.accept().await {
            held.push(sock);
        }
    });
    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = attempts.clone();
    let app = Router::new()
        .route("/binary", get(|| async { vec![0xffu8, 0xfe, 0x00, 0x80] }))
        .route("/notyaml", get(|| async { "this: [is not: {a design\n" }))
        .route(
            "/fail",
            get(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom") }
            }),
        )
        .route(
            "/missing",
            get(|| async { (axum::http::StatusCode::NOT_FOUND, "no") }),
        )
        .route("/big", get(|| async { "#".repeat(10_000) }));
    let server = drydock_api::spawn("127.0.0.1:0".parse().unwrap(), app)
        .await
        .unwrap();
    let http = server.url();
    let keep = tokio::spawn(async move {
        // Keeps the server alive until aborted.
        let _server = server;
        std::future::pending::<()>().await;
    });
    BadPeers {
        hang: format!("http://{hang_addr}/site.yaml"),
        http,
        attempts,
        _tasks: vec![AbortOnDrop(hang_task), AbortOnDrop(keep)],
    }
}

fn quick_resolver() -> ResolverConfig {
    ResolverConfig {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(500),
        attempts: 2,
        backoff: Duration::from_millis(20),
        max_bytes: 4096,
        cache_ttl: Duration::ZERO,
        allow_file: true,
    }
}

async fn send(
    api: &common::Api,
    method: &str,
    path: &str,
    ctype: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let mut req = api
        .http
        .request(method.parse().unwrap(), api.url(path))
        .body(body);
    if let Some(c) = ctype {
        req = req.header("Content-Type", c);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    assert!(
        resp.headers().contains_key("x-drydock-req"),
        "{method} {path}: no X-Drydock-Req"
    );
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn post_json(api: &common::Api, path: &str, body: Value) -> (u16, Value) {
    send(
        api,
        "POST",
        path,
        Some("application/json"),
        body.to_string(),
    )
    .await
}

fn message(v: &Value) -> &str {
    v["message"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_and_the_server_goes_on() {
    let peers = bad_peers().await;
    let api = common::start(ApiConfig {
        resolver: quick_resolver(),
        ..ApiConfig::default()
    })
    .await;
    let site = api.site_ref();

    // Bodies.
    let (s, b) = send(
        &api,
        "POST",
        "/api/v1.0/tasks",
        Some("application/json"),
        "{oops",
    )
    .await;
    assert_eq!((s, b["type"].as_str()), (400, Some("error")));
    assert!(message(&b).starts_with("invalid JSON body"), "{b}");
    let task = json!({"action": "deploy_nodes", "design_ref": site}).to_string();
    let (s, b) = send(
        &api,
        "POST",
        "/api/v1.0/tasks",
        Some("text/plain"),
        task.clone(),
    )
    .await;
    assert_eq!(s, 400);
    assert!(message(&b).contains("application/json"), "{b}");
    let (s, _) = send(&api, "POST", "/api/v1.0/tasks", None, task).await;
    assert_eq!(s, 400);
    let huge = format!(
        r#"{{"action": "deploy_nodes", "design_ref": "{}"}}"#,
        "x".repeat(2 << 20)
    );
    let (s, b) = send(
        &api,
        "POST",
        "/api/v1.0/tasks",
        Some("application/json"),
        huge,
    )
    .await;
    assert_eq!(s, 413, "{b}");
    let (s, b) = post_json(&api, "/api/v1.0/tasks", json!({"action": "deploy_nodes"})).await;
    assert_eq!(
        (s, message(&b)),
        (400, "Task creation requires fields design_ref, action")
    );
    let (s, b) = post_json(&api, "/api/v1.0/tasks", json!([1, 2])).await;
    assert_eq!(
        (s, message(&b)),
        (400, "Task creation requires fields design_ref, action")
    );
    let (s, b) = post_json(
        &api,
        "/api/v1.0/tasks",
        json!({"action": "frobnicate", "design_ref": site}),
    )
    .await;
    assert_eq!((s, message(&b)), (400, "Unsupported action frobnicate"));
    let (s, b) = post_json(
        &api,
        "/api/v1.0/tasks",
        json!({"action": "deploy_nodes", "design_ref": site, "node_filter": {"filter_set": 3}}),
    )
    .await;
    assert_eq!(s, 400);
    assert!(message(&b).starts_with("invalid node_filter"), "{b}");

    // Design references.
    let task_with = |r: &str| json!({"action": "prepare_nodes", "design_ref": r});
    let started = Instant::now();
    let (s, b) = post_json(&api, "/api/v1.0/tasks", task_with(&peers.hang)).await;
    assert_eq!(s, 400, "{b}");
    assert!(
        message(&b).contains(&peers.hang) && message(&b).contains("timed out"),
        "{b}"
    );
    assert_eq!(b["retry"], true);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "bounded by the resolver's timeouts"
    );
    // A password in the reference never shows.
    let secret = peers.hang.replace("http://", "http://user:hunter2@");
    let (s, b) = post_json(&api, "/api/v1.0/tasks", task_with(&secret)).await;
    assert_eq!(s, 400, "{b}");
    assert!(!b.to_string().contains("hunter2"), "{b}");
    assert!(message(&b).contains("user:***@"), "{b}");
    let fail = format!("{}/fail", peers.http);
    let (s, b) = post_json(&api, "/api/v1.0/tasks", task_with(&fail)).await;
    assert_eq!((s, b["retry"].clone()), (400, json!(true)), "{b}");
    assert!(message(&b).contains("HTTP 500"), "{b}");
    assert_eq!(peers.attempts.load(Ordering::SeqCst), 2, "bounded retries");
    for (path, says, retry) in [
        ("/binary", "is not UTF-8 text", false),
        ("/notyaml", "does not read or compile", false),
        ("/missing", "HTTP 404", false),
        ("/big", "larger than 4096 bytes", false),
    ] {
        let r = format!("{}{path}", peers.http);
        let (s, b) = post_json(&api, "/api/v1.0/tasks", task_with(&r)).await;
        assert_eq!(s, 400, "{path}: {b}");
        assert!(
            message(&b).contains(&r) && message(&b).contains(says),
            "{path}: {b}"
        );
        assert_eq!(b["retry"], retry, "{path}");
    }
    let missing = format!("file://{}/nothing-here", api.dir.path().display());
    for (r, says) in [
        (missing.as_str(), "cannot read"),
        ("ftp://127.0.0.1/site.yaml", "no handler"),
        ("not a url", "not a URL"),
    ] {
        let (s, b) = post_json(&api, "/api/v1.0/tasks", task_with(r)).await;
        assert_eq!(s, 400, "{r}: {b}");
        assert!(
            message(&b).contains(r) && message(&b).contains(says),
            "{r}: {b}"
        );
    }
    assert!(
        api.orch
            .store()
            .list_tasks(&Default::default())
            .await
            .unwrap()
            .is_empty()
    );

    // validatedesign and nodefilter.
    let (s, b) = send(
        &api,
        "POST",
        "/api/v1.0/validatedesign",
        Some("application/json"),
        "",
    )
    .await;
    assert_eq!(
        (s, message(&b)),
        (400, "Request body must not be empty for validation.")
    );
    let (s, b) = post_json(&api, "/api/v1.0/validatedesign", json!({"rel": "x"})).await;
    assert_eq!(
        (s, message(&b)),
        (
            400,
            "The \"href\" key must be provided in the request body."
        )
    );
    let (s, b) = post_json(
        &api,
        "/api/v1.0/validatedesign",
        json!({"href": peers.hang}),
    )
    .await;
    assert_eq!((s, b["status"].as_str()), (400, Some("Failure")), "{b}");
    assert!(
        b["details"]["messageList"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&peers.hang)
    );
    let notyaml = format!("{}/notyaml", peers.http);
    let (s, b) = post_json(&api, "/api/v1.0/validatedesign", json!({"href": notyaml})).await;
    assert_eq!(
        (s, b["status"].as_str(), b["code"].as_u64()),
        (400, Some("Failure"), Some(400))
    );
    assert!(b["details"]["errorCount"].as_u64().unwrap() >= 1);
    let (s, _) = post_json(&api, "/api/v1.0/nodefilter", json!({"node_filter": null})).await;
    assert_eq!(s, 400);

    // Ids and query parameters.
    let (s, b) = send(&api, "GET", "/api/v1.0/tasks/not-a-uuid", None, "").await;
    assert_eq!((s, message(&b)), (404, "Task not-a-uuid does not exist"));
    let id = uuid::Uuid::new_v4();
    let (s, b) = send(&api, "GET", &format!("/api/v1.0/tasks/{id}"), None, "").await;
    assert_eq!(
        (s, message(&b).to_owned()),
        (404, format!("Task {id} does not exist"))
    );
    let (s, _) = send(
        &api,
        "GET",
        &format!("/api/v1.0/tasks/{id}?layers=x"),
        None,
        "",
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = send(&api, "DELETE", "/api/v1.0/tasks?days=-1", None, "").await;
    assert_eq!(s, 400);
    let (s, b) = send(&api, "GET", "/api/v1.0/nowhere", None, "").await;
    assert_eq!((s, b["type"].as_str()), (404, Some("error")));

    // Still serving, and healthy.
    let (s, b) = send(&api, "GET", "/versions", None, "").await;
    assert_eq!(
        (s, b),
        (
            200,
            json!({"v1.0": {"path": "/api/v1.0", "status": "stable"}})
        )
    );
    let (s, _) = send(&api, "GET", "/api/v1.0/health", None, "").await;
    assert_eq!(s, 204);
    let (s, b) = send(&api, "GET", "/api/v1.0/health/extended", None, "").await;
    assert_eq!(
        (s, b["status"].as_str(), b["code"].as_u64()),
        (200, Some("Success"), Some(200))
    );
    api.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_token_and_keystone_service_headers() {
    let api = common::start(ApiConfig {
        auth: Auth::BearerToken(Token::new("s3cret-token").unwrap()),
        ..ApiConfig::default()
    })
    .await;
    let get = |headers: &[(&str, &str)]| {
        let mut req = api.http.get(api.url("/api/v1.0/tasks"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send()
    };
    for (headers, status) in [
        (&[][..], 401),
        (&[("Authorization", "Bearer wrong")][..], 401),
        (&[("Authorization", "Bearer s3cret-token")][..], 200),
        (&[("X-Auth-Token", "s3cret-token")][..], 200),
    ] {
        let got = get(headers).await.unwrap().status();
        assert_eq!(got, status, "with headers {headers:?}");
    }
    // Unauthenticated by design: versions, health, boot actions (the node key decides).
    let open = api
        .http
        .get(api.url("/api/v1.0/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(open.status(), 204);
    let ba = api
        .http
        .get(api.url("/api/v1.0/bootactions/nodes/n1/units"))
        .send()
        .await
        .unwrap();
    assert_eq!(ba.status(), 404, "no boot action context, not 401");
    assert!(!format!("{:?}", Token::new("s3cret-token").unwrap()).contains("s3cret"));
    api.server.shutdown().await.unwrap();

    let api = common::start(ApiConfig {
        auth: Auth::KeystoneHeaders(Policy::default()),
        ..ApiConfig::default()
    })
    .await;
    let get = |headers: &[(&str, &str)]| {
        let mut req = api.http.get(api.url("/api/v1.0/tasks"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send()
    };
    let service = [
        ("X-Service-Identity-Status", "Confirmed"),
        ("X-Service-Roles", "admin"),
    ];
    assert_eq!(get(&service).await.unwrap().status(), 200);
    let invalid = [("X-Identity-Status", "Invalid"), ("X-Roles", "admin")];
    assert_eq!(get(&invalid).await.unwrap().status(), 401);
    api.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_answers_requests_in_flight() {
    let peers = bad_peers().await;
    let api = common::start(ApiConfig {
        resolver: quick_resolver(),
        ..ApiConfig::default()
    })
    .await;
    let url = api.url("/api/v1.0/validatedesign");
    let body = json!({"href": peers.hang}).to_string();
    let http = api.http.clone();
    // A request that takes about a second (two attempts at a silent server).
    let in_flight = tokio::spawn(async move {
        http.post(url)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let addr = api.server.addr();
    api.server.shutdown().await.unwrap();
    assert_eq!(
        in_flight.await.unwrap().unwrap(),
        400,
        "answered before shutting down"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}
