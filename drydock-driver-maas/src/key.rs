//! The MAAS API key (`consumer_key:token_key:token_secret`).

use std::fmt;
use std::str::FromStr;

/// Why a string is not a MAAS API key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeyError {
    /// The key does not have exactly three colon-separated parts.
    #[error("a MAAS API key has the form consumer_key:token_key:token_secret, found {0} part(s)")]
    WrongPartCount(usize),
    /// One of the three parts is empty.
    #[error("the {0} of the MAAS API key is empty")]
    EmptyPart(&'static str),
}

/// A MAAS API key: OAuth consumer key, token key and token secret (the consumer secret is always
/// empty in MAAS).
///
/// The key is a credential: `Debug` and `Display` print `***`, and the client never logs it.
///
/// ```
/// use drydock_driver_maas::MaasApiKey;
/// let key: MaasApiKey = "ck:tk:secret".parse().unwrap();
/// assert_eq!(key.consumer_key(), "ck");
/// assert_eq!(format!("{key}"), "***");
/// assert!(!format!("{key:?}").contains("secret"));
/// assert!("only:two".parse::<MaasApiKey>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct MaasApiKey {
    consumer_key: String,
    token_key: String,
    token_secret: String,
}

impl MaasApiKey {
    /// Builds a key from its three parts.
    pub fn new(
        consumer_key: impl Into<String>,
        token_key: impl Into<String>,
        token_secret: impl Into<String>,
    ) -> Result<Self, ApiKeyError> {
        let key = Self {
            consumer_key: consumer_key.into(),
            token_key: token_key.into(),
            token_secret: token_secret.into(),
        };
        for (name, part) in [
            ("consumer key", &key.consumer_key),
            ("token key", &key.token_key),
            ("token secret", &key.token_secret),
        ] {
            if part.is_empty() {
                return Err(ApiKeyError::EmptyPart(name));
            }
        }
        Ok(key)
    }

    /// The OAuth consumer key (not secret on its own).
    pub fn consumer_key(&self) -> &str {
        &self.consumer_key
    }

    /// The OAuth token key (not secret on its own).
    pub fn token_key(&self) -> &str {
        &self.token_key
    }

    /// The OAuth token secret. Handle with care: this is the credential.
    pub fn token_secret(&self) -> &str {
        &self.token_secret
    }

    /// The full key in MAAS' `consumer:token:secret` form. Handle with care: this is the
    /// credential (for writing it to a file a user asked for, never for logs).
    pub fn expose(&self) -> String {
        format!(
            "{}:{}:{}",
            self.consumer_key, self.token_key, self.token_secret
        )
    }
}

impl FromStr for MaasApiKey {
    type Err = ApiKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.trim().split(':').collect();
        match parts.as_slice() {
            [ck, tk, ts] => Self::new(*ck, *tk, *ts),
            other => Err(ApiKeyError::WrongPartCount(other.len())),
        }
    }
}

impl fmt::Debug for MaasApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MaasApiKey(***)")
    }
}

impl fmt::Display for MaasApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_three_parts_and_trims_newline() {
        let key: MaasApiKey = "6FSsXwk3QsktR96BJd:KVA8C3VTCEg8aYSuy4:c5D88bRZ\n"
            .parse()
            .unwrap();
        assert_eq!(key.consumer_key(), "6FSsXwk3QsktR96BJd");
        assert_eq!(key.token_key(), "KVA8C3VTCEg8aYSuy4");
        assert_eq!(key.token_secret(), "c5D88bRZ");
        assert_eq!(
            key.expose(),
            "6FSsXwk3QsktR96BJd:KVA8C3VTCEg8aYSuy4:c5D88bRZ"
        );
    }

    #[test]
    fn rejects_wrong_shapes_with_clear_errors() {
        assert_eq!(
            "a:b".parse::<MaasApiKey>(),
            Err(ApiKeyError::WrongPartCount(2))
        );
        assert_eq!(
            "a:b:c:d".parse::<MaasApiKey>(),
            Err(ApiKeyError::WrongPartCount(4))
        );
        assert_eq!(
            "a::c".parse::<MaasApiKey>(),
            Err(ApiKeyError::EmptyPart("token key"))
        );
        let msg = "x".parse::<MaasApiKey>().unwrap_err().to_string();
        assert!(msg.contains("consumer_key:token_key:token_secret"), "{msg}");
    }

    #[test]
    fn never_prints_the_secret() {
        let key: MaasApiKey = "ck:tk:topsecret".parse().unwrap();
        assert_eq!(key.to_string(), "***");
        assert_eq!(format!("{key:?}"), "MaasApiKey(***)");
    }
}
