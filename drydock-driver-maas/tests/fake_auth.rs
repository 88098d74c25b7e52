//! The fake checks OAuth and routes like MAAS (401/400/404 bodies), driven through HTTP.
#![cfg(feature = "fake")]

use drydock_driver_maas::fake::FakeMaas;
use drydock_driver_maas::{MaasApiKey, MaasClient, MaasError, Params, oauth};

async fn fake() -> FakeMaas {
    FakeMaas::builder().machines(1).start().await.unwrap()
}

async fn raw_get(
    fake: &FakeMaas,
    path: &str,
    auth: Option<String>,
) -> (u16, String, Option<String>) {
    let url = format!("{}/api/2.0/{path}", fake.url());
    let mut req = reqwest::Client::new().get(url);
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let www = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, resp.text().await.unwrap(), www)
}

#[tokio::test]
async fn a_valid_header_is_accepted_and_its_nonce_cannot_be_replayed() {
    let fake = fake().await;
    let header = oauth::authorization_header(fake.api_key(), oauth::unix_now(), "nonce-1");
    let (status, body, _) = raw_get(&fake, "machines/", Some(header.clone())).await;
    assert_eq!(status, 200, "{body}");
    let (status, body, www) = raw_get(&fake, "machines/", Some(header)).await;
    assert_eq!(status, 401);
    assert_eq!(body, "Authorization Error: 'Nonce already used'");
    assert_eq!(www.as_deref(), Some("OAuth realm=\"OAuth\""));
}

#[tokio::test]
async fn missing_header_or_parameter_is_401() {
    let fake = fake().await;
    let (status, _, _) = raw_get(&fake, "machines/", None).await;
    assert_eq!(status, 401);
    let full = oauth::authorization_header(fake.api_key(), oauth::unix_now(), "n2");
    let without_nonce = full.replace(r#"oauth_nonce="n2", "#, "");
    assert_ne!(full, without_nonce);
    let (status, body, _) = raw_get(&fake, "machines/", Some(without_nonce)).await;
    assert_eq!(status, 401);
    assert!(body.contains("oauth_nonce"), "{body}");
}

#[tokio::test]
async fn wrong_secret_unknown_consumer_stale_timestamp_are_401() {
    let fake = fake().await;
    let good = fake.api_key().clone();
    let wrong_secret =
        MaasApiKey::new(good.consumer_key(), good.token_key(), "not-the-secret").unwrap();
    let h = oauth::authorization_header(&wrong_secret, oauth::unix_now(), "n3");
    let (status, body, _) = raw_get(&fake, "machines/", Some(h)).await;
    assert_eq!(status, 401);
    assert!(body.contains("Invalid signature"), "{body}");

    let stranger = MaasApiKey::new("someone", good.token_key(), good.token_secret()).unwrap();
    let h = oauth::authorization_header(&stranger, oauth::unix_now(), "n4");
    let (status, body, _) = raw_get(&fake, "machines/", Some(h)).await;
    assert_eq!(
        (status, body.as_str()),
        (401, "Authorization Error: Invalid API key.")
    );

    let h = oauth::authorization_header(&good, oauth::unix_now() - 1000, "n5");
    let (status, body, _) = raw_get(&fake, "machines/", Some(h)).await;
    assert_eq!(status, 401);
    assert!(body.contains("Expired timestamp"), "{body}");

    // A future timestamp passes, as in MAAS.
    let h = oauth::authorization_header(&good, oauth::unix_now() + 1000, "n6");
    assert_eq!(raw_get(&fake, "machines/", Some(h)).await.0, 200);

    let h = oauth::authorization_header(&good, 1, "n7")
        .replace(r#"oauth_timestamp="1""#, r#"oauth_timestamp="soon""#);
    assert_eq!(
        raw_get(&fake, "machines/", Some(h)).await.0,
        400,
        "non-integer timestamp is 400"
    );
}

#[tokio::test]
async fn the_fakes_clock_skew_makes_the_clients_timestamp_stale() {
    let fake = fake().await;
    fake.set_clock_skew(301);
    let err = fake
        .client()
        .machines()
        .list(&Default::default())
        .await
        .unwrap_err();
    match err {
        MaasError::Unauthorized { body, .. } => {
            assert!(body.contains("Expired timestamp"), "{body}")
        }
        other => panic!("{other:?}"),
    }
    fake.set_clock_skew(0);
    assert_eq!(
        fake.client()
            .machines()
            .list(&Default::default())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_client_with_a_wrong_key_gets_unauthorized() {
    let fake = fake().await;
    let c = MaasClient::new(fake.url(), "a:b:c".parse().unwrap()).unwrap();
    assert!(matches!(
        c.check_authentication().await,
        Err(MaasError::Unauthorized { .. })
    ));
    assert_eq!(fake.client().check_authentication().await.unwrap(), 1);
    // version/ and describe/ are anonymous.
    assert!(
        c.version()
            .await
            .unwrap()
            .capabilities
            .contains(&"authenticate-api".to_owned())
    );
    assert_eq!(raw_get(&fake, "describe/", None).await.0, 200);
}

#[tokio::test]
async fn unknown_op_is_400_with_maas_text() {
    let fake = fake().await;
    let c = fake.client();
    let err = c
        .get::<serde_json::Value>("machines/", Some("frobnicate"), &Params::new())
        .await
        .unwrap_err();
    match &err {
        MaasError::BadRequest { body, .. } => {
            assert_eq!(body, "Unrecognised signature: method=GET op=frobnicate")
        }
        other => panic!("{other:?}"),
    }
    let sid = &fake.machine_ids()[0];
    let err = c
        .post::<serde_json::Value>(&format!("machines/{sid}/"), Some("details"), &Params::new())
        .await
        .unwrap_err();
    assert_eq!(
        err.body(),
        Some("Unrecognised signature: method=POST op=details")
    );
}

#[tokio::test]
async fn a_missing_trailing_slash_is_an_unknown_endpoint() {
    let fake = fake().await;
    let c = fake.client();
    let err = c
        .get::<serde_json::Value>("machines", None, &Params::new())
        .await
        .unwrap_err();
    match &err {
        MaasError::NotFound { body, .. } => {
            assert_eq!(body, "Unknown API endpoint: /MAAS/api/2.0/machines.")
        }
        other => panic!("{other:?}"),
    }
    let sid = &fake.machine_ids()[0];
    assert!(
        c.get::<serde_json::Value>(&format!("machines/{sid}"), None, &Params::new())
            .await
            .is_err()
    );
    // The single-partition path is MAAS' exception: no trailing slash.
    let err = c
        .get::<serde_json::Value>(
            &format!("nodes/{sid}/blockdevices/1/partition/2/"),
            None,
            &Params::new(),
        )
        .await
        .unwrap_err();
    assert!(
        err.body().unwrap().starts_with("Unknown API endpoint"),
        "{err:?}"
    );
}

#[tokio::test]
async fn multipart_bodies_with_base64_parts_are_accepted() {
    let fake = fake().await;
    let boundary = "xYzZY";
    let b64 = base64_encode("mytag");
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\nContent-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\nplain text\r\n--{boundary}--\r\n"
    );
    let resp = reqwest::Client::new()
        .post(format!("{}/api/2.0/tags/", fake.url()))
        .header("Authorization", oauth::sign_now(fake.api_key()))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let tag = fake.client().tags().get("mytag").await.unwrap();
    assert_eq!(tag.comment, "plain text");
}

fn base64_encode(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}
