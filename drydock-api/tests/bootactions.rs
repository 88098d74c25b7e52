//! The boot action endpoints over real HTTP on 127.0.0.1: simulated nodes fetch their units and
//! files with their key and report; DeployNodes ends on the reports, not on its deadline; the
//! reference's 401/403/404/409 answers; bad requests are refused without harm.

mod common;

use std::time::Duration;

use drydock_api::ApiConfig;
use drydock_core::bootaction::BootActionStatus;
use drydock_core::design::Source;
use drydock_core::task::{Action, ResultStatus};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boot_action_round_trip_over_http() {
    let api = common::start(ApiConfig::default()).await;
    let orch = &api.orch;
    let design = orch
        .put_design(&[Source::new("site.yaml", common::SITE)])
        .await
        .unwrap();
    let prep = orch
        .create_task(Action::PrepareNodes, &design, None, "test")
        .await
        .unwrap();
    assert_eq!(
        orch.run(prep.id).await.unwrap().task.result.status,
        ResultStatus::Success
    );
    let deploy = orch
        .create_task(Action::DeployNodes, &design, None, "test")
        .await
        .unwrap();
    // The boot action deadline is 10 minutes: ending within 60 s means the reports arrived.
    let done = tokio::time::timeout(Duration::from_secs(60), orch.run(deploy.id))
        .await
        .expect("DeployNodes waited for its boot action deadline")
        .unwrap();
    assert_eq!(
        done.task.result.status,
        ResultStatus::Success,
        "{:?}",
        done.task.result
    );
    assert!(
        done.task
            .result
            .messages
            .iter()
            .any(|m| m.message == "Bootaction completed."
                && m.context_type == drydock_core::task::ContextType::Bootaction),
        "the nodes' report details are messages of the task"
    );

    // The nodes fetched their tarballs with their keys; they hold the rendered assets.
    for node in ["n1", "n2"] {
        let got = api.agent.fetched(node).expect("node fetched its assets");
        let files = common::untar(&got.files);
        assert_eq!(
            files,
            vec![(
                "/var/tmp/hello.sh".to_owned(),
                0o555,
                format!("echo hello from {node}")
            )]
        );
        let units = common::untar(&got.units);
        assert_eq!(
            units,
            vec![(
                "/etc/systemd/system/quiet.service".to_owned(),
                0o600,
                "[Unit]\nDescription=quiet\n".to_owned()
            )]
        );
    }
    let records = orch.bootactions().records_for_node("n1").await.unwrap();
    let hello = records.iter().find(|r| r.action_name == "hello").unwrap();
    assert_eq!(hello.status, BootActionStatus::Success);
    let key = hello.identity_key.to_hex();

    // Asking again with the key: the same tarball, headers as the reference.
    let resp = api
        .http
        .get(api.url("/api/v1.0/bootactions/nodes/n1/files"))
        .header("X-Bootaction-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/gzip");
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename=\"n1-files.tar.gz\""
    );
    assert!(resp.headers().contains_key("x-drydock-req"));
    let files = common::untar(&resp.bytes().await.unwrap());
    assert_eq!(files[0].0, "/var/tmp/hello.sh");

    // Wrong key 403, no key 401, unknown node 404.
    let wrong = "0".repeat(64);
    for (path, key, code) in [
        (
            "/api/v1.0/bootactions/nodes/n1/units",
            Some(wrong.as_str()),
            403,
        ),
        ("/api/v1.0/bootactions/nodes/n1/files", Some("not hex"), 403),
        ("/api/v1.0/bootactions/nodes/n1/units", None, 401),
        (
            "/api/v1.0/bootactions/nodes/nope/units",
            Some(key.as_str()),
            404,
        ),
    ] {
        let mut req = api.http.get(api.url(path));
        if let Some(k) = key {
            req = req.header("X-Bootaction-Key", k);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), code, "{path} with {key:?}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["type"], "error");
        assert_eq!(body["retry"], false);
    }

    // A final status changed: 409, and the status stays.
    let post = |id: String, key: Option<String>, body: String| {
        let mut req = api
            .http
            .post(api.url(&format!("/api/v1.0/bootactions/{id}")))
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(k) = key {
            req = req.header("X-Bootaction-Key", k);
        }
        req.send()
    };
    let hello_id = hello.action_id.to_string();
    let resp = post(
        hello_id.clone(),
        Some(key.clone()),
        r#"{"status": "failure"}"#.into(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 409);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body["message"],
        format!("Action {hello_id} status finalized, not available for update.")
    );
    let again = orch
        .store()
        .get_bootaction(hello.action_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.status, BootActionStatus::Success);

    // Wrong key 403 before anything else; unknown action 404 (a valid id, or not an id).
    let resp = post(hello_id.clone(), Some(wrong.clone()), "{}".into())
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = post(hello_id.clone(), None, "{}".into()).await.unwrap();
    assert_eq!(resp.status(), 401);
    let unknown = drydock_core::bootaction::ActionId::new().to_string();
    assert_eq!(
        post(unknown, Some(key.clone()), "{}".into())
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        post("not-an-id".into(), Some(key.clone()), "{}".into())
            .await
            .unwrap()
            .status(),
        404
    );

    // The non-signalling action of n3 is not final: bad bodies are 400, a huge one 413, and
    // then a good report with the reference's trailing slash and extra detail fields works.
    let n3 = orch.bootactions().records_for_node("n3").await.unwrap();
    let quiet = n3.iter().find(|r| r.action_name == "quiet").unwrap();
    let (qid, qkey) = (quiet.action_id.to_string(), quiet.identity_key.to_hex());
    for bad in [
        "{not json",
        r#"{"status": "done"}"#,
        r#"{"unknown": 1}"#,
        r#"{"details": [{"error": true}]}"#,
        "[]",
    ] {
        let resp = post(qid.clone(), Some(qkey.clone()), bad.into())
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("Error processing body.")
        );
    }
    let resp = api
        .http
        .post(api.url(&format!("/api/v1.0/bootactions/{qid}")))
        .header("X-Bootaction-Key", &qkey)
        .header("Content-Type", "text/plain")
        .body(r#"{"status": "success"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400, "wrong content type");
    let huge = format!(
        r#"{{"details": [{{"message": "{}"}}]}}"#,
        "x".repeat(1 << 20)
    );
    let resp = post(qid.clone(), Some(qkey.clone()), huge).await.unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(
        orch.store()
            .get_bootaction(quiet.action_id)
            .await
            .unwrap()
            .unwrap()
            .status,
        BootActionStatus::Unreported,
        "refused reports change nothing"
    );
    let resp = api
        .http
        .post(api.url(&format!("/api/v1.0/bootactions/{qid}/")))
        .header("X-Bootaction-Key", &qkey)
        .header("Content-Type", "application/json")
        .body(r#"{"status": "Success", "details": [{"message": "ran", "error": false, "context": "x"}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["action_status"], "success");
    assert_eq!(body["action_name"], "quiet");
    assert_eq!(body["node_name"], "n3");
    assert_eq!(body["action_id"], qid);
    assert!(body.get("identity_key").is_none());
    api.server.shutdown().await.unwrap();
}
