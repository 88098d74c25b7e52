//! The MAAS URL's secrets stay out of `Debug` output and errors, URLs with a query string are
//! refused, and transport errors say why the connection failed.

use std::time::Duration;

use drydock_core::driver::DriverErrorKind;
use drydock_driver_maas::{
    MaasApiKey, MaasClient, MaasDriver, MaasDriverConfig, MaasError, Params,
};

fn key() -> MaasApiKey {
    "ck:tk:key-secret".parse().expect("valid key")
}

fn assert_clean(shown: &str) {
    for secret in ["hunter2pass", "key-secret", "token", "anchor-xyz"] {
        assert!(!shown.contains(secret), "{secret:?} shown in {shown}");
    }
}

#[test]
fn debug_of_driver_config_and_client_hides_the_url_password() {
    let url = "http://admin:hunter2pass@127.0.0.1:1/MAAS";
    let config = MaasDriverConfig::new(url, key());
    let shown = format!("{config:?}");
    assert_clean(&shown);
    assert!(
        shown.contains("http://admin:***@127.0.0.1:1/MAAS"),
        "{shown}"
    );

    let driver = MaasDriver::new(config).expect("driver");
    let shown = format!("{driver:?}");
    assert_clean(&shown);
    assert!(
        shown.contains("http://admin:***@127.0.0.1:1/MAAS/api/2.0/"),
        "{shown}"
    );

    let builder = MaasClient::builder(url, key());
    assert_clean(&format!("{builder:?}"));
    let client = builder.build().expect("client");
    assert_clean(&format!("{client:?}"));
    assert_clean(&format!("{:?}", client.clone()));
}

#[test]
fn debug_of_a_config_with_a_query_shows_no_query() {
    let config = MaasDriverConfig::new("http://admin:hunter2pass@m/MAAS?token=X#anchor-xyz", key())
        .bootaction_report_url("http://u:hunter2pass@drydock:9000/api/v1.0/bootactions/?token=Y");
    let shown = format!("{config:?}");
    assert_clean(&shown);
    let builder = MaasClient::builder("http://m/MAAS?token=X", key());
    assert_clean(&format!("{builder:?}"));
    // Text that is no URL at all is not shown.
    let config = MaasDriverConfig::new("not a url hunter2pass", key());
    assert_clean(&format!("{config:?}"));
}

#[test]
fn a_url_with_a_query_or_fragment_is_refused_without_echoing_it() {
    for url in [
        "http://127.0.0.1:1/MAAS?token=X",
        "http://admin:hunter2pass@127.0.0.1:1/MAAS/?token=X",
        "http://127.0.0.1:1/MAAS?",
        "http://127.0.0.1:1/MAAS#anchor-xyz",
        "http://127.0.0.1:1/MAAS/api/2.0/?token=X",
    ] {
        let err = MaasClient::new(url, key()).expect_err(url);
        assert!(matches!(err, MaasError::Config(_)), "{url}: {err:?}");
        let text = err.to_string();
        assert_clean(&text);
        assert_clean(&format!("{err:?}"));
        assert!(
            text.contains("query string") || text.contains("fragment"),
            "{url}: {text}"
        );

        let err = MaasDriver::new(MaasDriverConfig::new(url, key())).expect_err(url);
        assert_eq!(err.kind, DriverErrorKind::Permanent, "{url}");
        assert_clean(&err.to_string());
        assert_clean(&format!("{err:?}"));
    }
}

#[test]
fn other_invalid_urls_are_refused_without_echoing_the_password() {
    for url in [
        "ftp://admin:hunter2pass@m/MAAS",
        "http://admin:hunter2pass@m:99999/MAAS",
        "hunter2pass",
    ] {
        let err = MaasClient::new(url, key()).expect_err(url);
        assert!(matches!(err, MaasError::Config(_)), "{url}: {err:?}");
        assert_clean(&err.to_string());
    }
}

#[test]
fn base_url_keeps_the_path_and_gains_the_api_suffix() {
    for (input, want) in [
        ("http://m:5240/MAAS", "http://m:5240/MAAS/api/2.0/"),
        ("http://m:5240/MAAS/", "http://m:5240/MAAS/api/2.0/"),
        (
            " http://m:5240/MAAS/api/2.0 ",
            "http://m:5240/MAAS/api/2.0/",
        ),
        ("https://m/", "https://m/api/2.0/"),
        ("https://m", "https://m/api/2.0/"),
    ] {
        let client = MaasClient::new(input, key()).expect(input);
        assert_eq!(client.base_url().as_str(), want, "{input}");
    }
}

#[tokio::test]
async fn a_refused_connection_says_so_and_names_the_peer() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let client = MaasClient::builder(
        format!("http://admin:hunter2pass@127.0.0.1:{port}/MAAS"),
        key(),
    )
    .max_retries(0)
    .connect_timeout(Duration::from_secs(2))
    .build()
    .expect("client");
    let err = client
        .get::<serde_json::Value>("version/", None, &Params::new())
        .await
        .expect_err("nothing listens");
    let text = err.to_string();
    assert!(matches!(err, MaasError::Transport { .. }), "{err:?}");
    assert!(err.is_retryable(), "{text}");
    assert_eq!(
        drydock_driver_maas::driver::classify(&err),
        DriverErrorKind::Transient
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert_clean(&text);
    assert!(!text.contains("/MAAS"), "{text}");
}
