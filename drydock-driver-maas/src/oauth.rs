//! OAuth 1.0a PLAINTEXT `Authorization` header, as MAAS verifies it.
//!
//! MAAS uses an empty consumer secret, so the PLAINTEXT signature is `&<token_secret>`, which is
//! percent-encoded once more as a header parameter (`%26<token_secret>`). The header must be
//! built for every HTTP attempt: MAAS rejects a nonce it has already seen.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;

use crate::MaasApiKey;

/// Percent-encodes every byte outside the RFC 3986 unreserved set (`A-Z a-z 0-9 - . _ ~`).
///
/// ```
/// assert_eq!(drydock_driver_maas::oauth::percent_encode("a&b c~"), "a%26b%20c~");
/// ```
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (the inverse of [`percent_encode`]); invalid escapes are kept verbatim.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The PLAINTEXT signature for `key`: `<consumer secret>&<token secret>`, with MAAS' empty
/// consumer secret.
pub fn plaintext_signature(key: &MaasApiKey) -> String {
    format!("&{}", percent_encode(key.token_secret()))
}

/// Builds the `Authorization` header value for one request.
///
/// ```
/// use drydock_driver_maas::{oauth, MaasApiKey};
/// let key: MaasApiKey = "ck:tk:ts".parse().unwrap();
/// let header = oauth::authorization_header(&key, 1_700_000_000, "n1");
/// assert!(header.starts_with("OAuth "));
/// assert!(header.contains(r#"oauth_signature="%26ts""#));
/// assert!(header.contains(r#"oauth_timestamp="1700000000""#));
/// ```
pub fn authorization_header(key: &MaasApiKey, timestamp: u64, nonce: &str) -> String {
    format!(
        concat!(
            r#"OAuth realm="OAuth", oauth_nonce="{}", oauth_timestamp="{}", "#,
            r#"oauth_version="1.0", oauth_signature_method="PLAINTEXT", "#,
            r#"oauth_consumer_key="{}", oauth_token="{}", oauth_signature="{}""#
        ),
        percent_encode(nonce),
        timestamp,
        percent_encode(key.consumer_key()),
        percent_encode(key.token_key()),
        percent_encode(&plaintext_signature(key)),
    )
}

/// A fresh random nonce (decimal digits, as oauthlib produces).
pub fn new_nonce() -> String {
    let n: u128 = rand::rng().random();
    n.to_string()
}

/// Seconds since the Unix epoch on this machine's clock.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Builds a header with the current time and a fresh nonce (what the client does per attempt).
pub fn sign_now(key: &MaasApiKey) -> String {
    authorization_header(key, unix_now(), &new_nonce())
}

/// Parses the parameters of an `OAuth …` header the way MAAS does: split on `,`, then on the
/// first `=`, strip quotes, percent-decode; parameters containing `realm` are skipped.
/// Returns `None` when the header does not start with `OAuth `.
pub fn parse_authorization(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.strip_prefix("OAuth ")?;
    let mut params = Vec::new();
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() || part.contains("realm") {
            continue;
        }
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let v = v.trim().trim_matches('"');
        params.push((k.trim().to_owned(), percent_decode(v)));
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MaasApiKey {
        "6FSsXwk3QsktR96BJd:KVA8C3VTCEg8aYSuy4:c5D88bRZCSSTDwMgwycQEagc7sqd4N9p"
            .parse()
            .unwrap()
    }

    #[test]
    fn header_matches_the_reference_grammar() {
        let h = authorization_header(&key(), 1795558711, "25030103374259368451795558711");
        assert_eq!(
            h,
            concat!(
                r#"OAuth realm="OAuth", oauth_nonce="25030103374259368451795558711", "#,
                r#"oauth_timestamp="1795558711", oauth_version="1.0", "#,
                r#"oauth_signature_method="PLAINTEXT", oauth_consumer_key="6FSsXwk3QsktR96BJd", "#,
                r#"oauth_token="KVA8C3VTCEg8aYSuy4", "#,
                r#"oauth_signature="%26c5D88bRZCSSTDwMgwycQEagc7sqd4N9p""#
            )
        );
    }

    #[test]
    fn parse_round_trips_and_decodes_signature() {
        let h = authorization_header(&key(), 42, "abc");
        let params = parse_authorization(&h).unwrap();
        let get = |n: &str| {
            params
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("oauth_signature"), "&c5D88bRZCSSTDwMgwycQEagc7sqd4N9p");
        assert_eq!(get("oauth_timestamp"), "42");
        assert!(params.iter().all(|(k, _)| k != "realm"));
        assert!(parse_authorization("Basic abc").is_none());
    }

    #[test]
    fn secrets_with_reserved_characters_are_double_encoded() {
        let key = MaasApiKey::new("ck", "tk", "a+b/c").unwrap();
        let h = authorization_header(&key, 1, "n");
        // signature "&a%2Bb%2Fc", then encoded again as a header value.
        assert!(h.contains(r#"oauth_signature="%26a%252Bb%252Fc""#), "{h}");
        assert_eq!(percent_decode("%26a%252Bb"), "&a%2Bb");
    }

    #[test]
    fn nonces_are_fresh() {
        let a = new_nonce();
        let b = new_nonce();
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_digit()));
    }
}
