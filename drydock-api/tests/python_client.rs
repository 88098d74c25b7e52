//! The Python Drydock's own API client (the peer in `../shared/peers/drydock-client`, never
//! copied here) drives the API on 127.0.0.1 as Shipyard does, with the Keystone header auth
//! layer: validate_design (valid, and invalid: the client raises on the 400), node filters,
//! create_task and polling get_task until complete, subtaskerrors/layers, build data,
//! delete_tasks, and 401/403.

mod common;

use drydock_api::ApiConfig;
use drydock_api::auth::{Auth, Policy};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_drydock_client_drives_the_api() {
    const TEST: &str = "python_drydock_client_drives_the_api";
    let Some(client_dir) = drydock_core::testing::peers(TEST, "drydock-client") else {
        return;
    };
    let Some(python) = drydock_core::testing::python(TEST, &["requests", "keystoneauth1"]) else {
        return;
    };
    let api = common::start(ApiConfig {
        auth: Auth::KeystoneHeaders(Policy::default()),
        ..ApiConfig::default()
    })
    .await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/drive_api.py");
    let port = api.server.addr().port().to_string();
    let (valid, invalid) = (api.site_ref(), api.invalid_ref());
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new(&python)
            .arg(script)
            .args([&port, &valid, &invalid])
            .env("PYTHONPATH", &client_dir)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the client script finished within 120 s")
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "client script failed:\n{stderr}");
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    eprintln!("{out:#}");

    assert_eq!(out["valid"]["status"], "Success");
    assert_eq!(out["valid"]["code"], 200);
    assert_eq!(out["valid"]["kind"], "Status");
    assert_eq!(out["valid"]["errorCount"], 0);
    assert_eq!(
        out["invalid"]["code"], 400,
        "the client raises on the invalid design"
    );
    assert!(out["invalid"]["text"].as_str().unwrap().contains("Failure"));

    assert_eq!(out["filter_union"], serde_json::json!(["n1", "n2", "n3"]));
    assert_eq!(out["filter_intersection"], serde_json::json!(["n2"]));
    assert_eq!(out["filter_none"], serde_json::json!(["n1", "n2", "n3"]));

    assert_eq!(out["prep_created"]["status"], "queued");
    assert_eq!(out["prep_created"]["action"], "prepare_nodes");
    assert_eq!(out["prep_created"]["created_by"], "shipyard", "X-End-User");
    assert_eq!(out["prep_done"]["status"], "complete");
    assert_eq!(out["prep_done"]["result"], "success");
    assert_eq!(
        out["prep_done"]["successes"],
        serde_json::json!(["n1", "n2", "n3"])
    );

    // DeployNodes over n1, n2 ends on the boot action reports the simulated nodes sent over
    // HTTP (its boot action deadline is 10 minutes).
    assert_eq!(out["deploy"]["status"], "complete");
    assert_eq!(out["deploy"]["result"], "success");
    assert_eq!(out["deploy"]["successes"], serde_json::json!(["n1", "n2"]));
    assert_eq!(out["deploy"]["failures"], serde_json::json!([]));
    assert!(out["deploy"]["seconds"].as_f64().unwrap() < 60.0);
    assert_eq!(
        out["deploy"]["node_filter"]["filter_set"][0]["node_names"],
        serde_json::json!(["n1", "n2"])
    );
    assert!(api.agent.fetched("n1").is_some() && api.agent.fetched("n3").is_none());

    assert!(out["layers"]["init_task_id"].is_string());
    assert_eq!(out["layers"]["has_task"], true);
    assert!(out["layers"]["subtask_errors"].is_object());

    assert!(out["task_builddata_count"].as_u64().unwrap() >= 3);
    let bd: Vec<String> = out["build_data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap().to_owned())
        .collect();
    for n in ["n1", "n2", "n3"] {
        assert!(bd.iter().any(|b| b == n), "build data of {n}: {bd:?}");
    }
    assert_eq!(
        out["build_data_keys"],
        serde_json::json!([
            "collected_date",
            "data_element",
            "data_format",
            "generator",
            "node_name",
            "task_id"
        ])
    );
    assert!(out["node_build_data"].as_u64().unwrap() >= 1);

    assert_eq!(out["no_auth"], 401);
    assert_eq!(out["member"], 403);
    assert_eq!(out["member_create"], 403);
    assert_eq!(out["relabel"], 400);

    assert_eq!(out["tasks_before"], 2);
    assert_eq!(out["tasks_after_30_days"], 2);
    assert_eq!(out["tasks_after_0_days"], 0);
    assert_eq!(out["deleted_task"], 404);
    api.server.shutdown().await.unwrap();
}
