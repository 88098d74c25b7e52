//! TLS against sushy-tools' emulator serving HTTPS with a self-signed certificate made by
//! `openssl` here: verification by default, a CA file, a pinned fingerprint, insecure.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Options, PASSWORD, Sushy, config, target};
use drydock_core::driver::{DriverErrorKind, OobDriver, PowerState};
use drydock_driver_redfish::RedfishDriver;

/// A self-signed certificate for 127.0.0.1 in `dir`; returns (cert, key, sha256 hex).
fn certificate(test: &str, dir: &Path) -> Option<(std::path::PathBuf, std::path::PathBuf, String)> {
    let openssl =
        drydock_core::testing::require_tool(test, "openssl", "apt-get install -y openssl")?;
    let cert = dir.join("bmc.pem");
    let key = dir.join("bmc.key");
    let status = Command::new(&openssl)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        ])
        .arg("/CN=test-bmc")
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(status.status.success(), "openssl req: {status:?}");
    let out = Command::new(&openssl)
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&cert)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let fp = text.trim().rsplit('=').next().unwrap().to_owned();
    Some((cert, key, fp))
}

#[tokio::test]
async fn certificates_are_verified_pinned_or_explicitly_ignored() {
    let test = "redfish tls";
    let dir = tempfile::tempdir().unwrap();
    let Some((cert, key, fingerprint)) = certificate(test, dir.path()) else {
        return;
    };
    let options = Options {
        tls: Some((cert.clone(), key)),
        ..Options::default()
    };
    let Some(sushy) = Sushy::start(test, options) else {
        return;
    };
    let https = |params: &[(&str, &str)]| {
        let mut p = vec![("scheme", "https")];
        p.extend_from_slice(params);
        target(sushy.port, PASSWORD, &p)
    };
    let driver = RedfishDriver::new(config());
    // Verification on by default: a self-signed certificate is refused, permanently.
    let e = driver.power_state(&https(&[])).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Permanent, "{e}");
    assert!(e.message.contains("TLS"), "{e}");
    // The certificate as the CA.
    let ca = cert.to_str().unwrap();
    assert_eq!(
        driver
            .power_state(&https(&[("tls_ca_file", ca)]))
            .await
            .unwrap(),
        PowerState::Off
    );
    // Pinned by fingerprint (with colons, as openssl prints it).
    assert_eq!(
        driver
            .power_state(&https(&[("tls_fingerprint", &fingerprint)]))
            .await
            .unwrap(),
        PowerState::Off
    );
    let wrong = "00".repeat(32);
    let e = driver
        .power_state(&https(&[("tls_fingerprint", &wrong)]))
        .await
        .unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Permanent, "{e}");
    assert!(e.message.contains("pinned"), "{e}");
    // Insecure only when asked.
    assert_eq!(
        driver
            .power_state(&https(&[("tls_insecure", "true")]))
            .await
            .unwrap(),
        PowerState::Off
    );
    let e = driver
        .power_state(&https(&[("tls_fingerprint", "abc")]))
        .await
        .unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Permanent, "{e}");
    assert!(e.message.contains("tls_fingerprint"), "{e}");
}
