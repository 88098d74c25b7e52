//! What MAAS' own clients need of the fake, on the wire: `describe/` in MAAS' shape, bodies as
//! Python's multipart encoders write them, `op-<name>` paths (MAAS 3.3+), `openapi.yaml`, rack
//! controllers as nodes, and 501 (not a MAAS-looking 404) for what the fake does not implement.
#![cfg(feature = "fake")]

use drydock_driver_maas::fake::FakeMaas;
use drydock_driver_maas::oauth::{authorization_header, new_nonce};
use drydock_driver_maas::{MaasApiKey, MachineStatus};
use serde_json::Value;

const B: &str = "===============5218441916052233151==";

fn auth(key: &MaasApiKey) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    authorization_header(key, now, &new_nonce())
}

async fn send(
    fake: &FakeMaas,
    method: reqwest::Method,
    path: &str,
    body: Option<(&str, Vec<u8>)>,
) -> (u16, String, String) {
    let url = format!("http://{}/MAAS/api/2.0/{path}", fake.addr());
    let mut rq = reqwest::Client::new()
        .request(method, url)
        .header("Authorization", auth(fake.api_key()));
    if let Some((ctype, bytes)) = body {
        rq = rq.header("Content-Type", ctype).body(bytes);
    }
    let rs = rq.send().await.unwrap();
    let status = rs.status().as_u16();
    let ctype = rs
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ctype, rs.text().await.unwrap())
}

fn multipart() -> String {
    format!("multipart/form-data; boundary=\"{B}\"")
}

#[tokio::test]
async fn describe_has_maas_shape() {
    let fake = FakeMaas::builder().start().await.unwrap();
    let body = reqwest::get(format!("{}/api/2.0/describe/", fake.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let doc: Value = serde_json::from_str(&body).unwrap();
    let resources = doc["resources"].as_array().unwrap();
    let find = |name: &str| {
        resources
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no resource {name}"))
    };
    let machine = &find("MachineHandler")["auth"];
    assert!(find("MachineHandler")["anon"].is_null());
    assert_eq!(machine["params"], serde_json::json!(["system_id"]));
    assert_eq!(
        machine["uri"],
        format!("{}/api/2.0/machines/{{system_id}}/", fake.url())
    );
    assert!(machine["doc"].is_string());
    let actions = machine["actions"].as_array().unwrap();
    let deploy = actions.iter().find(|a| a["name"] == "deploy").unwrap();
    assert_eq!(
        (&deploy["method"], &deploy["op"], &deploy["restful"]),
        (&"POST".into(), &"deploy".into(), &false.into())
    );
    let read = actions.iter().find(|a| a["name"] == "read").unwrap();
    assert_eq!(
        (&read["op"], &read["restful"]),
        (&Value::Null, &true.into())
    );
    // Anonymous handlers are described under `anon`.
    assert!(find("VersionHandler")["auth"].is_null());
    assert_eq!(find("VersionHandler")["anon"]["name"], "VersionHandler");
    // Singular and plural partition paths are one handler.
    assert_eq!(
        resources
            .iter()
            .filter(|r| r["name"] == "PartitionHandler")
            .count(),
        1
    );
}

#[tokio::test]
async fn parameterless_multipart_posts_and_wrapped_base64_are_accepted() {
    let fake = FakeMaas::builder().machines(1).start().await.unwrap();
    let sid = fake.machine_ids()[0].clone();
    let path = format!("machines/{sid}/?op=commission");
    // A 0-byte body, as the MAAS CLI sends it.
    let (status, _, body) = send(
        &fake,
        reqwest::Method::POST,
        &path,
        Some((&multipart(), vec![])),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    fake.advance(20);
    assert_eq!(fake.machine_status(&sid), Some(MachineStatus::Ready));

    // Deploy with one base64 part wrapped at 76 characters (CRLF), as Python encodes it, and
    // user data that is itself line-wrapped base64 (libmaas' `encodebytes`).
    let user_data = "I2Nsb3VkLWNvbmZpZwpydW5jbWQ6IFtlY2hvIG9uZSwgZWNobyB0d28sIGVjaG8gdGhyZWUsIGVj\naG8gZm91cl0K\n";
    let part = base64_wrapped(user_data.as_bytes());
    let body = format!(
        "--{B}\r\nContent-Type: application/octet-stream\r\nMIME-Version: 1.0\r\n\
         Content-Transfer-Encoding: base64\r\nContent-Disposition: form-data; name=\"user_data\"\
         \r\n\r\n{part}\r\n--{B}--"
    );
    let (status, _, text) = send(
        &fake,
        reqwest::Method::POST,
        &format!("machines/{sid}/op-deploy"),
        Some((&multipart(), body.into_bytes())),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(fake.machine_user_data(&sid).as_deref(), Some(user_data));
    assert_eq!(
        fake.op_requests("POST", &format!("machines/{sid}/"), "deploy"),
        1,
        "the op- path form counts as the op"
    );

    // Release with one empty part without headers (Python's email package, no parameters).
    let empty = format!("--{B}\r\n\r\n--{B}--");
    let (status, _, text) = send(
        &fake,
        reqwest::Method::POST,
        &format!("machines/{sid}/?op=release"),
        Some((&multipart(), empty.into_bytes())),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    // Django refuses a multipart body without a boundary; so does the fake.
    let (status, _, _) = send(
        &fake,
        reqwest::Method::POST,
        &format!("machines/{sid}/?op=release"),
        Some(("multipart/form-data", b"x".to_vec())),
    )
    .await;
    assert_eq!(status, 400);
}

fn base64_wrapped(data: &[u8]) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n")
}

#[tokio::test]
async fn unimplemented_parts_of_maas_answer_501_and_unknown_paths_404() {
    let fake = FakeMaas::builder().machines(1).start().await.unwrap();
    let sid = fake.machine_ids()[0].clone();
    // An op MAAS has that the fake lacks, on a path it serves.
    let (status, _, body) = send(
        &fake,
        reqwest::Method::GET,
        &format!("machines/{sid}/?op=get_token"),
        None,
    )
    .await;
    assert_eq!(status, 501);
    assert!(body.contains("Not implemented by the fake MAAS"), "{body}");
    // A MAAS resource the fake does not serve at all.
    let (status, _, body) = send(&fake, reqwest::Method::GET, "zones/", None).await;
    assert_eq!(status, 501, "{body}");
    // Strict where MAAS is: an op MAAS does not have, a missing trailing slash, a made-up path.
    let (status, _, body) = send(
        &fake,
        reqwest::Method::GET,
        &format!("machines/{sid}/?op=no_such_op"),
        None,
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (400, "Unrecognised signature: method=GET op=no_such_op")
    );
    let (status, _, body) = send(&fake, reqwest::Method::GET, "machines", None).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.starts_with("Unknown API endpoint"), "{body}");
    let (status, _, _) = send(&fake, reqwest::Method::GET, "no-such-thing/", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn op_paths_openapi_and_rack_controllers_as_nodes() {
    let fake = FakeMaas::builder().machines(2).start().await.unwrap();
    let (status, _, body) = send(
        &fake,
        reqwest::Method::GET,
        "machines/op-power_parameters",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let params: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(params.as_object().unwrap().len(), 2);

    let rs = reqwest::get(format!("{}/api/2.0/openapi.yaml", fake.url()))
        .await
        .unwrap();
    assert_eq!(rs.status().as_u16(), 200);
    let doc: Value = serde_json::from_str(&rs.text().await.unwrap()).unwrap();
    assert_eq!(doc["openapi"], "3.0.0");
    assert!(doc["paths"]["/machines/{system_id}/op-deploy"]["post"].is_object());

    // Drydock's rack health check reads a rack's interfaces through `nodes/`.
    let (status, _, body) = send(&fake, reqwest::Method::GET, "rackcontrollers/", None).await;
    assert_eq!(status, 200);
    let racks: Value = serde_json::from_str(&body).unwrap();
    let rack = &racks[0];
    for field in [
        "status_action",
        "domain",
        "zone",
        "hardware_uuid",
        "cpu_speed",
    ] {
        assert!(rack.get(field).is_some(), "rack lacks {field}: {rack}");
    }
    let rid = rack["system_id"].as_str().unwrap();
    let (status, _, body) = send(
        &fake,
        reqwest::Method::GET,
        &format!("nodes/{rid}/interfaces/"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let ifaces: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ifaces[0]["name"], "eth0");
    for sub in ["blockdevices", "volume-groups"] {
        let (status, _, body) = send(
            &fake,
            reqwest::Method::GET,
            &format!("nodes/{rid}/{sub}/"),
            None,
        )
        .await;
        assert_eq!((status, body.as_str()), (200, "[]"), "{sub}");
    }
    // Machines carry MAAS' displayed fields that libmaas reads.
    let sid = fake.machine_ids()[0].clone();
    let (_, _, body) = send(
        &fake,
        reqwest::Method::GET,
        &format!("machines/{sid}/"),
        None,
    )
    .await;
    let m: Value = serde_json::from_str(&body).unwrap();
    for field in [
        "status_action",
        "min_hwe_kernel",
        "disable_ipv4",
        "physicalblockdevice_set",
        "numanode_set",
        "default_gateways",
        "hardware_info",
    ] {
        assert!(m.get(field).is_some(), "machine lacks {field}");
    }
}
