//! Design references that work: a `file://` directory read recursively (a link loop read once),
//! an `http://` design served on 127.0.0.1 and kept in the short cache, and a task created from
//! it (201 with `Location`, listed, readable with the query options).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::routing::get;
use drydock_api::ApiConfig;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directories_and_http_references() {
    let api = common::start(ApiConfig::default()).await;

    // The site split over two files in nested directories, with a link back up the tree.
    let root = api.dir.path().join("split");
    let (head, tail) = common::SITE.split_at(
        common::SITE
            .find("---\nschema: drydock/BaremetalNode")
            .unwrap(),
    );
    std::fs::create_dir_all(root.join("a/b")).unwrap();
    std::fs::write(root.join("a/networks.yaml"), head).unwrap();
    std::fs::write(root.join("a/b/nodes.yml"), tail).unwrap();
    std::fs::write(root.join("a/README.txt"), "not a design").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&root, root.join("a/b/loop")).unwrap();
    let resp = api
        .http
        .post(api.url("/api/v1.0/validatedesign"))
        .json(&json!({"href": format!("file://{}", root.display())}))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "Success");

    // Served over HTTP, counted: the cache answers the second read.
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let peer = Router::new().route(
        "/site.yaml",
        get(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { common::SITE }
        }),
    );
    let peer = drydock_api::spawn("127.0.0.1:0".parse().unwrap(), peer)
        .await
        .unwrap();
    let href = format!("{}/site.yaml", peer.url());
    let resp = api
        .http
        .post(api.url("/api/v1.0/tasks"))
        .header("X-Context-Marker", uuid::Uuid::new_v4().to_string())
        .json(&json!({"action": "verify_nodes", "design_ref": href,
                      "node_filter": {"filter_set_type": "union",
                                      "filter_set": [{"filter_type": "union", "node_names": ["n3"]}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let task: Value = resp.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1.0/tasks/{}", task["task_id"].as_str().unwrap())
    );
    assert_eq!(task["created_by"], "api");
    let nodes: Value = api
        .http
        .post(api.url("/api/v1.0/nodefilter"))
        .json(&json!({"design_ref": href}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(nodes, json!(["n1", "n2", "n3"]));
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "the second read came from the cache"
    );

    // The task runs on its own; it is listed and readable.
    let mut done = Value::Null;
    for _ in 0..500 {
        done = api.get_json(&location).await;
        if done["status"] == "complete" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(done["status"], "complete");
    assert_eq!(done["result"]["successes"], json!(["n3"]));
    let list: Value = api.get_json("/api/v1.0/tasks").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let with: Value = api
        .get_json(&format!(
            "{location}?builddata=true&subtaskerrors=true&layers=1"
        ))
        .await;
    let id = task["task_id"].as_str().unwrap();
    assert_eq!(with["init_task_id"], id);
    assert_eq!(with[id]["build_data"][0]["node_name"], "n3");
    assert_eq!(with[id]["subtask_errors"], json!({}));
    let nodes: Value = api.get_json("/api/v1.0/nodes").await;
    assert_eq!(nodes[2]["hostname"], "n3");
    assert_eq!(nodes[2]["power_address"], "10.1.0.13");
    peer.shutdown().await.unwrap();
    api.server.shutdown().await.unwrap();
}
