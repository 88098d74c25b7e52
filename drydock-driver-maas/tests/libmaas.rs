//! Canonical's python-libmaas drives the fake MAAS as it drives MAAS (`tests/peers/
//! libmaas_flow.py`): connect, list machines, commission, allocate, deploy with user data,
//! release with erase, fabric/VLAN/subnet/IP range, SSH keys, tags, block devices and
//! partitions. The test then checks the fake's state against what libmaas reported.
#![cfg(feature = "fake")]

use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use drydock_driver_maas::MachineStatus;
use drydock_driver_maas::fake::FakeMaas;
use serde_json::Value;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/libmaas_flow.py");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_libmaas_drives_the_fake() {
    let Some(python) =
        drydock_core::testing::python("libmaas::python_libmaas_drives_the_fake", &["maas.client"])
    else {
        return;
    };
    let fake = FakeMaas::builder()
        .machines(2)
        .auto_tick(Duration::from_millis(20))
        .start()
        .await
        .unwrap();
    let child = std::process::Command::new(python)
        .arg(SCRIPT)
        .arg(format!("{}/", fake.url()))
        .arg(fake.api_key().expose())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Liveness bound of the whole flow (every wait in the script is bounded too); the fake
    // keeps serving on this runtime meanwhile.
    let out = tokio::time::timeout(
        Duration::from_secs(300),
        tokio::task::spawn_blocking(move || child.wait_with_output()),
    )
    .await
    .expect("the libmaas flow did not finish")
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "libmaas flow failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let seen: Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{e}: {stdout}"));

    let sid = seen["system_id"].as_str().unwrap();
    assert_eq!(seen["listed"], serde_json::json!(fake.machine_ids()));
    // Released with erase: Ready again, no owner, user data gone with the deployment.
    assert_eq!(fake.machine_status(sid), Some(MachineStatus::Ready));
    assert_eq!(seen["owner_after_release"], Value::Null);
    assert_eq!(seen["distro_series"], "jammy");
    assert_eq!(fake.machine_user_data(sid), None);
    for op in ["commission", "deploy", "release"] {
        assert_eq!(
            fake.op_requests("POST", &format!("machines/{sid}/"), op),
            1,
            "{op}"
        );
    }
    // One allocation per deployment.
    assert_eq!(fake.op_requests("POST", "machines/", "allocate"), 2);

    // What libmaas created is in the fake, read back with the Rust client.
    let c = fake.client();
    let fabric = seen["fabric"]["id"].as_i64().unwrap();
    let fabrics = c.fabrics().list().await.unwrap();
    assert!(
        fabrics
            .iter()
            .any(|f| f.id == fabric && f.name == "peers-fabric"),
        "{fabrics:?}"
    );
    assert_eq!(seen["vlan"]["vid"], 142);
    assert_eq!(seen["vlan"]["mtu"], 9000);
    assert_eq!(seen["vlan"]["fabric"], fabric);
    let subnets = c.subnets().list().await.unwrap();
    let subnet = subnets
        .iter()
        .find(|s| Some(s.id) == seen["subnet"]["id"].as_i64())
        .expect("subnet");
    assert_eq!(subnet.cidr.to_string(), "10.42.0.0/24");
    assert_eq!(
        seen["subnet"]["dns_servers"],
        serde_json::json!(["10.42.0.2", "10.42.0.3"])
    );
    assert_eq!(seen["iprange"]["start_ip"], "10.42.0.100");
    assert_eq!(seen["iprange"]["type"], "reserved");
    let keys = c.ssh_keys().list().await.unwrap();
    assert!(
        keys.iter().any(|k| k.key.ends_with("peers@drydock")),
        "{keys:?}"
    );
    assert_eq!(seen["tags_after"], serde_json::json!(["peers-tag"]));
    let m = c.machines().get(sid).await.unwrap();
    assert_eq!(m.tag_names, ["peers-tag"]);
    let p = &seen["partition"];
    assert_eq!(p["size"].as_u64().unwrap() / (1 << 30), 8);
    assert_eq!(
        (&p["fstype"], &p["mount_point"]),
        (&"ext4".into(), &"/srv/peers".into())
    );
    // The second deployment's user data is in the fake exactly as libmaas sent it: base64
    // wrapped at 76 characters, itself carried in a base64 multipart part.
    let deployed = seen["deployed"].as_str().unwrap();
    assert_eq!(fake.machine_status(deployed), Some(MachineStatus::Deployed));
    let sent = seen["user_data_sent"].as_str().unwrap();
    assert!(
        sent.contains('\n'),
        "libmaas wraps long user data: {sent:?}"
    );
    let stored = fake.machine_user_data(deployed).expect("user data kept");
    assert_eq!(stored, sent);
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(stored.replace('\n', ""))
        .unwrap();
    assert!(
        String::from_utf8(decoded)
            .unwrap()
            .starts_with("#cloud-config")
    );
}
