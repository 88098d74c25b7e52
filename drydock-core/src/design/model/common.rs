//! Types shared by several document kinds: inheritable settings, secrets and sizes.

use std::fmt;

use serde::Serialize;

/// A field a host profile or node may inherit from its parent profile.
///
/// In documents, an absent field inherits (`None` around this type), `'!'` clears the inherited
/// value ([`Setting::Clear`]) and any other value sets it ([`Setting::Set`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Setting<T> {
    /// `'!'`: do not inherit; the field is unset.
    Clear,
    /// A value.
    Set(T),
}

impl<T> Setting<T> {
    /// The value, if set.
    pub fn value(&self) -> Option<&T> {
        match self {
            Setting::Clear => None,
            Setting::Set(v) => Some(v),
        }
    }
}

/// Resolves an inheritable field against the parent's effective value.
pub(crate) fn inherit<T: Clone>(
    child: &Option<Setting<T>>,
    parent: &Option<Setting<T>>,
) -> Option<Setting<T>> {
    match child {
        None => parent.clone(),
        Some(Setting::Clear) => None,
        Some(Setting::Set(v)) => Some(Setting::Set(v.clone())),
    }
}

/// A secret from a design (a BMC password): never shown by `Debug`, `Display` or `Serialize`,
/// and wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value, for the code that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

/// A storage size as written in a design (`20g`, `500m`, `10%`, `>100g`).
///
/// Kept as written; [`Size::parse`] is the one function that interprets it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Size(pub String);

/// What a [`Size`] means.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SizeSpec {
    /// Exactly this many bytes.
    Bytes(u64),
    /// At least this many bytes, growing into the free space (`>100g`).
    AtLeast(u64),
    /// This percentage of the device or volume group (`10%`; may be negative in a bad design).
    Percent(i64),
}

/// A size string that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{text}' is not a size: {reason} (write a number with a unit m, g or t (decimal: 1g = 10^9 bytes), or a percentage such as 10%)"
)]
pub struct SizeError {
    /// The size as written.
    pub text: String,
    /// Why it does not parse.
    pub reason: &'static str,
}

impl Size {
    /// Parses the size. Units are decimal, as the reference's: `m`/`mb` = 10^6 bytes,
    /// `g`/`gb` = 10^9, `t`/`tb` = 10^12 (case-insensitive).
    ///
    /// ```
    /// use drydock_core::design::{Size, SizeSpec};
    /// assert_eq!(Size("20g".into()).parse(), Ok(SizeSpec::Bytes(20_000_000_000)));
    /// assert_eq!(Size(">1TB".into()).parse(), Ok(SizeSpec::AtLeast(1_000_000_000_000)));
    /// assert_eq!(Size("39%".into()).parse(), Ok(SizeSpec::Percent(39)));
    /// assert!(Size("10Gi".into()).parse().is_err());
    /// assert_eq!(
    ///     Size(">10%".into()).parse().unwrap_err().reason,
    ///     "a percentage cannot be a minimum ('>')"
    /// );
    /// ```
    pub fn parse(&self) -> Result<SizeSpec, SizeError> {
        let err = |reason| SizeError {
            text: self.0.clone(),
            reason,
        };
        let text = self.0.trim();
        if let Some(pct) = text.strip_suffix('%') {
            if pct.trim_start().starts_with('>') {
                return Err(err("a percentage cannot be a minimum ('>')"));
            }
            return pct
                .trim()
                .parse::<i64>()
                .map(SizeSpec::Percent)
                .map_err(|_| err("the percentage is not a whole number"));
        }
        let (at_least, rest) = match text.strip_prefix('>') {
            Some(r) => (true, r.trim_start()),
            None => (false, text),
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(err("no number"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| err("the number is too large"))?;
        let unit = rest[digits..].trim();
        let is = |u: &str| unit.eq_ignore_ascii_case(u);
        let multiplier: u64 = if is("m") || is("mb") {
            1_000_000
        } else if is("g") || is("gb") {
            1_000_000_000
        } else if is("t") || is("tb") {
            1_000_000_000_000
        } else if unit.is_empty() {
            return Err(err("no unit"));
        } else {
            return Err(err("unknown unit"));
        };
        let bytes = number
            .checked_mul(multiplier)
            .ok_or_else(|| err("the size is too large"))?;
        Ok(if at_least {
            SizeSpec::AtLeast(bytes)
        } else {
            SizeSpec::Bytes(bytes)
        })
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
