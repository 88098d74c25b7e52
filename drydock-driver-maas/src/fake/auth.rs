//! OAuth 1.0a PLAINTEXT verification as MAAS (django-piston3) performs it.

use std::collections::HashMap;

use crate::oauth;

use super::world::World;

/// Why a request is refused: status and MAAS' body.
pub(crate) type Refusal = (u16, String);

const NECESSARY: [&str; 6] = [
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_nonce",
];

/// Maximum age of a timestamp, in seconds.
pub(crate) const TIMESTAMP_THRESHOLD: i64 = 300;

/// Checks the `Authorization` header; records the nonce on success.
pub(crate) fn check(world: &mut World, header: Option<&str>) -> Result<(), Refusal> {
    let Some(header) = header else {
        return Err((
            401,
            "Authorization Error: 'Missing OAuth parameters'".into(),
        ));
    };
    let Some(pairs) = oauth::parse_authorization(header) else {
        return Err((401, "Authorization Error: 'Invalid OAuth header'".into()));
    };
    let params: HashMap<String, String> = pairs.into_iter().collect();
    let missing: Vec<&str> = NECESSARY
        .iter()
        .copied()
        .filter(|p| params.get(*p).is_none_or(|v| v.is_empty()))
        .collect();
    if !missing.is_empty() {
        return Err((
            401,
            format!(
                "Authorization Error: 'Missing OAuth parameter(s): {}'",
                missing.join(", ")
            ),
        ));
    }
    let timestamp: i64 = params["oauth_timestamp"].parse().map_err(|_| {
        (
            400,
            "Bad Request: invalid oauth_timestamp (not an integer)".to_owned(),
        )
    })?;
    if let Some(v) = params.get("oauth_version")
        && v != "1.0"
    {
        return Err((
            401,
            format!("Authorization Error: 'OAuth version {v} not supported.'"),
        ));
    }
    if params["oauth_consumer_key"] != world.key.consumer_key() {
        return Err((401, "Authorization Error: Invalid API key.".into()));
    }
    if params["oauth_token"] != world.key.token_key() {
        return Err((
            401,
            format!(
                "Authorization Error: 'Invalid access token: {}'",
                params["oauth_token"]
            ),
        ));
    }
    if params["oauth_signature_method"] != "PLAINTEXT" {
        return Err((
            401,
            format!(
                "Authorization Error: 'Signature method {} not supported try one of the following: PLAINTEXT'",
                params["oauth_signature_method"]
            ),
        ));
    }
    let now = oauth::unix_now() as i64 + world.clock_skew;
    if now - timestamp > TIMESTAMP_THRESHOLD {
        return Err((
            401,
            format!(
                "Authorization Error: 'Expired timestamp: given {timestamp} and now {now} has a greater difference than threshold {TIMESTAMP_THRESHOLD}'"
            ),
        ));
    }
    let nonce = (
        params["oauth_consumer_key"].clone(),
        params["oauth_token"].clone(),
        params["oauth_nonce"].clone(),
    );
    if world.nonces.contains(&nonce) {
        return Err((401, "Authorization Error: 'Nonce already used'".into()));
    }
    if params["oauth_signature"] != oauth::plaintext_signature(&world.key) {
        return Err((
            401,
            "Authorization Error: 'Invalid signature. Expected signature base string: ...'".into(),
        ));
    }
    world.nonces.insert(nonce);
    Ok(())
}
