//! Property tests: no JSON body, however strange, makes the parsers or the driver panic or
//! hang; the driver answers with a result or a typed error.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use drydock_core::design::{OobParameters, OobType, Secret};
use drydock_core::driver::{BootDevice, BootPersistence, OobDriver, OobTarget, PowerAction};
use drydock_driver_redfish::model::{
    ServiceRoot, System, action_info_allowed, error_message, links, task_progress,
};
use drydock_driver_redfish::{RedfishDriver, RedfishDriverConfig};
use proptest::prelude::*;
use serde_json::{Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("On"),
            Just("Off"),
            Just("PoweringOn"),
            Just("Pxe"),
            Just("Completed"),
            Just("Exception"),
            Just("/redfish/v1/Systems/1"),
            Just("ResetType"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        "[a-zA-Z@.#]{1,10}",
                        Just("@odata.id".to_owned()),
                        Just("Members".to_owned()),
                        Just("PowerState".to_owned()),
                        Just("Boot".to_owned()),
                        Just("Actions".to_owned()),
                        Just("#ComputerSystem.Reset".to_owned()),
                        Just("target".to_owned()),
                        Just("error".to_owned()),
                        Just("@Message.ExtendedInfo".to_owned()),
                        Just("Parameters".to_owned()),
                        Just("TaskState".to_owned()),
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsers_take_any_json(v in json_value()) {
        let _ = ServiceRoot::parse(&v);
        let s = System::parse(&v);
        prop_assert!(s.managers.len() <= drydock_driver_redfish::model::MAX_MEMBERS);
        let _ = links(&v, &["Members"]);
        let _ = task_progress(&v);
        let _ = error_message(&v);
        let _ = action_info_allowed(&v, "ResetType");
    }
}

/// A service whose resources are well formed except where a case changes them.
type Bodies = Arc<Mutex<HashMap<String, Value>>>;

fn skeleton() -> HashMap<String, Value> {
    let s = "/redfish/v1/Systems/1";
    HashMap::from([
        (
            "/redfish/v1".to_owned(),
            json!({"Systems": {"@odata.id": "/redfish/v1/Systems"},
            "Links": {"Sessions": {"@odata.id": "/redfish/v1/Sessions"}}}),
        ),
        (
            "/redfish/v1/Systems".to_owned(),
            json!({"Members": [{"@odata.id": s}]}),
        ),
        (
            s.to_owned(),
            json!({"PowerState": "Off",
            "Boot": {"BootSourceOverrideTarget": "None"},
            "Actions": {"#ComputerSystem.Reset": {"target": format!("{s}/Reset")}},
            "Links": {"ManagedBy": [{"@odata.id": "/redfish/v1/Managers/1"}]},
            "EthernetInterfaces": {"@odata.id": format!("{s}/Eth")}}),
        ),
        (format!("{s}/Reset"), json!({})),
        (
            format!("{s}/Eth"),
            json!({"Members": [{"@odata.id": format!("{s}/Eth/1")}]}),
        ),
        (
            format!("{s}/Eth/1"),
            json!({"MACAddress": "aa:bb:cc:dd:ee:ff"}),
        ),
        (
            "/redfish/v1/Managers/1".to_owned(),
            json!({"FirmwareVersion": "1"}),
        ),
        ("/redfish/v1/Sessions".to_owned(), json!({})),
    ])
}

async fn serve(State(bodies): State<Bodies>, uri: Uri) -> axum::response::Response {
    let path = uri.path().trim_end_matches('/').to_owned();
    let body = bodies.lock().unwrap().get(&path).cloned();
    match body {
        // A status hidden in the body picks the answer's status (202 sends tasks to it).
        Some(v) => {
            let status = v
                .get("#status")
                .and_then(Value::as_u64)
                .and_then(|s| StatusCode::from_u16(s as u16).ok())
                .unwrap_or(StatusCode::OK);
            (status, [("location", path.as_str())], axum::Json(v)).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn target(port: u16) -> OobTarget {
    let mut parameters = OobParameters::default();
    parameters.0.insert("scheme".into(), "http".into());
    OobTarget {
        node: "n".into(),
        kind: OobType::Redfish,
        address: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        port: Some(port),
        account: Some("u".into()),
        credential: Some(Secret::new("p")),
        parameters,
        boot_mode: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_driver_survives_any_body(
        changes in prop::collection::vec((0usize..8, prop::option::of("[A-Za-z#@.]{1,12}"), json_value(), prop::option::of(prop_oneof![Just(202u64), Just(401), Just(503), Just(500)])), 1..4)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut bodies = skeleton();
            let mut keys: Vec<String> = bodies.keys().cloned().collect();
            keys.sort();
            for (i, key, value, status) in changes {
                let body = bodies.get_mut(&keys[i % keys.len()]).unwrap();
                match key {
                    Some(k) if body.is_object() => { body[k.as_str()] = value; }
                    _ => *body = value,
                }
                if let (Some(s), Some(o)) = (status, body.as_object_mut()) {
                    o.insert("#status".into(), s.into());
                }
            }
            let state: Bodies = Arc::new(Mutex::new(bodies));
            let app = axum::Router::new().fallback(serve).with_state(state);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let server = tokio::spawn(async move { axum::serve(listener, app).await });
            let config: RedfishDriverConfig = serde_json::from_value(json!({
                "power_poll_interval_ms": 10, "power_deadline_ms": 200,
                "cycle_off_window_ms": 50, "task_poll_interval_ms": 10,
                "task_deadline_ms": 200, "retry_after_cap_ms": 10,
                "request_timeout_ms": 2000,
            })).unwrap();
            let driver = RedfishDriver::new(config);
            let t = target(port);
            let all = async {
                let _ = driver.power_state(&t).await;
                let _ = driver.set_power(&t, PowerAction::Cycle).await;
                let _ = driver.set_power(&t, PowerAction::Off).await;
                let _ = driver.set_boot_device(&t, BootDevice::Pxe, BootPersistence::OneTime).await;
                let _ = driver.interrogate(&t).await;
                driver.close().await;
            };
            tokio::time::timeout(Duration::from_secs(20), all).await.expect("the driver hung");
            server.abort();
        });
    }
}
