//! What a deployment ships to the node for its boot actions: cloud-init `user_data` with the
//! merged `pkg_list` packages and a root-only file holding the node's boot action identity,
//! read back from what the fake MAAS stored; never a `__baid__` tag, and the key in no `Debug`
//! output or error.
#![cfg(feature = "fake")]

mod common;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{driver, fake, job};
use drydock_core::bootaction::{BootActionRecord, BootActions};
use drydock_core::design::yaml::{Value as Yaml, parse_document, split_documents};
use drydock_core::design::{CompiledDesign, compile, ingest_str};
use drydock_core::driver::{DeployBootActions, DriverErrorKind, Identification, NodeDriver};
use drydock_core::store::{DesignId, MemoryStore};
use drydock_core::task::TaskId;
use drydock_driver_maas::MaasDriver;
use drydock_driver_maas::driver::userdata::IDENTITY_FILE;
use drydock_driver_maas::fake::{FakeMaas, Fault, FaultAction};
use serde_json::{Value, json};

const REPORT_URL: &str = "http://drydock.test:9000/api/v1.0/bootactions/";

/// Two nodes; two boot actions target n01 only, both with package lists (one package in both,
/// names and versions with YAML-special characters), one with a file too.
fn design() -> CompiledDesign {
    let text = format!(
        r#"{}---
schema: drydock/BootAction/v1
metadata: {{schema: metadata/Document/v1, name: base-packages}}
data:
  signaling: false
  node_filter:
    filter_set_type: union
    filter_set: [{{filter_type: union, node_names: [n01]}}]
  assets:
    - type: pkg_list
      data:
        curl: null
        'odd: name #1': '1:2.0-1'
        "quote'and\"dash - [x]": null
---
schema: drydock/BootAction/v1
metadata: {{schema: metadata/Document/v1, name: hello}}
data:
  node_filter:
    filter_set_type: union
    filter_set: [{{filter_type: union, node_names: [n01]}}]
  assets:
    - {{type: file, path: /etc/hello, data: hello, data_pipeline: []}}
    - type: pkg_list
      data:
        curl: 7.81.0-1ubuntu1
        ntp: null
"#,
        common::design_text(2)
    );
    compile(ingest_str(&text).expect("design ingests")).expect("design compiles")
}

/// A driver with access to `actions`, reporting at [`REPORT_URL`].
fn driver_with(fake: &FakeMaas, actions: &BootActions) -> MaasDriver {
    let config = common::config(fake.url(), fake.api_key().clone())
        .bootaction_report_url(REPORT_URL)
        .retries(1);
    MaasDriver::new(config)
        .expect("driver builds")
        .with_bootactions(actions.clone())
}

/// Identifies and commissions node `name`; returns its system id.
async fn ready(d: &MaasDriver, design: &CompiledDesign, name: &str) -> String {
    let n = job(design, name);
    let Identification::Known { provisioner_id } = d.identify_node(n).await.unwrap() else {
        panic!("{name} unknown");
    };
    d.configure_hardware(n).await.unwrap();
    provisioner_id
}

/// The boot action records of `node`'s deployment, as the orchestrator makes them before Deploy.
async fn records(
    actions: &BootActions,
    design: &CompiledDesign,
    node: &str,
) -> Vec<BootActionRecord> {
    actions
        .create_for_node(design, &DesignId("design-1".into()), TaskId::new(), node)
        .await
        .unwrap()
}

/// The cloud-config document `user_data` (base64) holds: its JSON value, after checking the
/// header and that a YAML parser (cloud-init reads YAML) reads the same packages.
fn cloud_config(user_data: &str) -> Value {
    let text = String::from_utf8(STANDARD.decode(user_data).expect("base64")).unwrap();
    let body = text
        .strip_prefix("#cloud-config\n")
        .unwrap_or_else(|| panic!("no #cloud-config header: {text}"));
    let doc: Value = serde_json::from_str(body).expect("the body is JSON");
    let docs = split_documents(&text);
    assert_eq!(docs.len(), 1);
    let yaml = parse_document(docs[0])
        .expect("valid YAML")
        .expect("a document");
    let Yaml::Map(top) = &yaml.value else {
        panic!("not a mapping: {:?}", yaml.value);
    };
    let (_, packages) = top
        .iter()
        .find(|(k, _)| k.text == "packages")
        .expect("packages in YAML");
    let Yaml::Seq(items) = &packages.value else {
        panic!("packages is no sequence");
    };
    let from_yaml: Vec<Value> = items
        .iter()
        .map(|i| match &i.value {
            Yaml::Str(s) => json!(s),
            Yaml::Seq(pair) => json!(
                pair.iter()
                    .map(|p| match &p.value {
                        Yaml::Str(s) => s.to_string(),
                        other => panic!("{other:?}"),
                    })
                    .collect::<Vec<_>>()
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        json!(from_yaml),
        doc["packages"],
        "YAML reads what JSON reads"
    );
    doc
}

/// Sorted, for comparison regardless of order.
fn sorted(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v.as_array().unwrap().iter().map(Value::to_string).collect();
    out.sort();
    out
}

#[tokio::test]
async fn deploy_ships_packages_and_a_root_only_identity_file_never_a_tag() {
    let fake = fake(2).await;
    let actions = BootActions::new(Arc::new(MemoryStore::new()));
    let d = driver_with(&fake, &actions);
    let design = design();
    let sid1 = ready(&d, &design, "n01").await;
    let sid2 = ready(&d, &design, "n02").await;
    let recs = records(&actions, &design, "n01").await;
    assert_eq!(recs.len(), 2);
    assert!(records(&actions, &design, "n02").await.is_empty());
    // An older deployment's records must not be shipped: make a newer set.
    let recs2 = records(&actions, &design, "n01").await;
    assert!(
        !recs2[0]
            .identity_key
            .matches_hex(&recs[0].identity_key.to_hex())
    );

    d.deploy(job(&design, "n01")).await.unwrap();
    d.deploy(job(&design, "n02")).await.unwrap();

    let doc = cloud_config(&fake.machine_user_data(&sid1).expect("n01 got user_data"));
    let expected = json!([
        "curl",
        ["odd: name #1", "1:2.0-1"],
        "quote'and\"dash - [x]",
        "ntp"
    ]);
    let mut expected = sorted(&expected);
    // Both actions list curl: the later version specifier wins.
    expected.retain(|p| p != "\"curl\"");
    expected.push(json!(["curl", "7.81.0-1ubuntu1"]).to_string());
    expected.sort();
    assert_eq!(sorted(&doc["packages"]), expected);

    let files = doc["write_files"].as_array().expect("write_files");
    assert_eq!(files.len(), 1, "{files:?}");
    let f = &files[0];
    assert_eq!(f["path"], IDENTITY_FILE);
    assert_eq!(f["permissions"], "0600");
    assert_eq!(f["owner"], "root:root");
    let identity: Value = serde_json::from_str(f["content"].as_str().unwrap()).unwrap();
    let key = identity["identity_key"].as_str().unwrap();
    assert!(recs2[0].identity_key.matches_hex(key), "the latest key");
    assert_eq!(key, recs2[0].identity_key.to_hex(), "exactly the key");
    assert_eq!(identity["node"], "n01");
    assert_eq!(identity["report_url"], REPORT_URL);
    assert_eq!(
        identity["units_url"],
        format!("{REPORT_URL}nodes/n01/units")
    );
    let mut ids: Vec<(String, String)> = identity["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(
                a["report_url"],
                format!("{REPORT_URL}{}", a["action_id"].as_str().unwrap())
            );
            (
                a["name"].as_str().unwrap().to_owned(),
                a["action_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    ids.sort();
    let mut want: Vec<(String, String)> = recs2
        .iter()
        .map(|r| (r.action_name.clone(), r.action_id.to_string()))
        .collect();
    want.sort();
    assert_eq!(ids, want);

    // n02: no boot action targets it, so no user data and no key file.
    assert_eq!(fake.machine_user_data(&sid2), None);
    // No tag carries a key.
    let tags = fake.client().tags().list().await.unwrap();
    assert!(
        tags.iter().all(|t| !t.name.contains("__baid__")),
        "{tags:?}"
    );
    for sid in [&sid1, &sid2] {
        let m = fake.client().machines().get(sid).await.unwrap();
        assert!(
            m.tag_names.iter().all(|t| !t.contains("__baid__")),
            "{:?}",
            m.tag_names
        );
    }
}

#[tokio::test]
async fn the_records_a_deploy_job_carries_are_shipped_and_win() {
    // The orchestrator's way: the Deploy job carries this deployment's records and report URL;
    // the driver's own store handle (holding a newer, unrelated set) and URL are not used.
    let fake = fake(1).await;
    let stale = BootActions::new(Arc::new(MemoryStore::new()));
    let d = driver_with(&fake, &stale);
    let design = design();
    let sid = ready(&d, &design, "n01").await;
    let orchestrators = BootActions::new(Arc::new(MemoryStore::new()));
    let recs = records(&orchestrators, &design, "n01").await;
    let other = records(&stale, &design, "n01").await;
    let url = "http://orchestrator.test/api/v1.0/bootactions/";
    let deploy = job(&design, "n01").with_bootactions(DeployBootActions {
        records: &recs,
        report_url: url,
    });
    let key = recs[0].identity_key.to_hex();
    assert!(
        !format!("{deploy:?}").contains(&key),
        "Debug of the job shows the key"
    );
    d.deploy(deploy).await.unwrap();
    let doc = cloud_config(&fake.machine_user_data(&sid).expect("user_data"));
    let file = doc["write_files"][0]["content"]
        .as_str()
        .expect("identity file");
    let identity: Value = serde_json::from_str(file).unwrap();
    assert_eq!(identity["identity_key"], key);
    assert_ne!(identity["identity_key"], other[0].identity_key.to_hex());
    assert_eq!(identity["report_url"], url);
    assert_eq!(identity["actions"].as_array().unwrap().len(), recs.len());
}

#[tokio::test]
async fn without_records_only_packages_are_shipped() {
    let fake = fake(1).await;
    let d = driver(&fake);
    let design = design();
    let sid = ready(&d, &design, "n01").await;
    d.deploy(job(&design, "n01")).await.unwrap();
    let doc = cloud_config(&fake.machine_user_data(&sid).expect("user_data"));
    assert_eq!(doc["packages"].as_array().unwrap().len(), 4);
    assert!(doc.get("write_files").is_none(), "{doc}");
}

#[tokio::test]
async fn the_key_is_in_no_debug_output_or_error() {
    let fake = fake(1).await;
    let actions = BootActions::new(Arc::new(MemoryStore::new()));
    let d = driver_with(&fake, &actions);
    let design = design();
    let sid = ready(&d, &design, "n01").await;
    let recs = records(&actions, &design, "n01").await;
    let key = recs[0].identity_key.to_hex();
    fake.inject(
        Fault::on("POST", &format!("machines/{sid}/"), Some("deploy"))
            .action(FaultAction::Unavailable { retry_after: None })
            .times(100),
    );
    let e = d.deploy(job(&design, "n01")).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Transient, "{e}");
    let mut shown = vec![format!("{e}"), format!("{e:?}"), format!("{d:?}")];
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        shown.push(format!("{s} {s:?}"));
        source = s.source();
    }
    for text in &shown {
        assert!(!text.contains(&key), "key in {text}");
        assert!(
            !text.contains(&key.to_uppercase()),
            "key (upper case) in {text}"
        );
        assert!(!text.contains("write_files"), "user data in {text}");
    }
    assert!(
        fake.op_requests("POST", &format!("machines/{sid}/"), "deploy") >= 1,
        "the deploy request was sent"
    );
    assert_eq!(fake.machine_user_data(&sid), None);
}
