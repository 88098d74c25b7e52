//! What the store keeps of a boot action on a node: its id, the node's identity key and its
//! status.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use subtle::ConstantTimeEq;
use ulid::Ulid;
use zeroize::Zeroize;

use crate::store::DesignId;
use crate::task::TaskId;

/// The id of one boot action on one node for one deployment: a ULID, written in base32
/// (`01ARZ3NDEKTSV4RRFFQ69G5FAV`) in URLs and templates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActionId(pub Ulid);

impl ActionId {
    /// A new id (time-ordered, random).
    pub fn new() -> Self {
        ActionId(Ulid::new())
    }
}

impl Default for ActionId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ActionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for ActionId {
    type Err = ulid::DecodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ulid::from_string(s).map(ActionId)
    }
}

/// Length of an identity key in bytes (the reference's `os.urandom(32)`).
pub const IDENTITY_KEY_LEN: usize = 32;

/// The secret a node proves its identity with (header `X-Bootaction-Key`, in hex) when it
/// fetches its assets or reports a status.
///
/// One key per node and deployment, shared by the node's boot actions as in the reference.
/// It is never shown by `Debug` and has no `Display`: write it out on purpose with
/// [`IdentityKey::to_hex`]. Compare with [`IdentityKey::matches_hex`] (constant time).
#[derive(Clone)]
pub struct IdentityKey([u8; IDENTITY_KEY_LEN]);

impl PartialEq for IdentityKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for IdentityKey {}

impl IdentityKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Self {
        let mut bytes = [0u8; IDENTITY_KEY_LEN];
        rand::fill(&mut bytes);
        IdentityKey(bytes)
    }

    /// A key from its bytes.
    pub fn from_bytes(bytes: [u8; IDENTITY_KEY_LEN]) -> Self {
        IdentityKey(bytes)
    }

    /// A key from its hex form; `None` unless it is exactly 64 hex digits.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let hex = hex.as_bytes();
        if hex.len() != 2 * IDENTITY_KEY_LEN {
            return None;
        }
        let mut bytes = [0u8; IDENTITY_KEY_LEN];
        for (b, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            let digit = |c: u8| (c as char).to_digit(16);
            *b = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
        }
        Some(IdentityKey(bytes))
    }

    /// The key in lowercase hex, as the node sends it. Treat the result as a secret.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether `hex` is this key, compared in constant time (case-insensitive hex).
    ///
    /// ```
    /// use drydock_core::bootaction::IdentityKey;
    /// let key = IdentityKey::generate();
    /// assert!(key.matches_hex(&key.to_hex()));
    /// assert!(key.matches_hex(&key.to_hex().to_uppercase()));
    /// assert!(!key.matches_hex(&IdentityKey::generate().to_hex()));
    /// assert!(!key.matches_hex("not hex"));
    /// ```
    pub fn matches_hex(&self, hex: &str) -> bool {
        // A malformed key fails before any comparison: its length is no secret.
        match IdentityKey::from_hex(hex) {
            Some(other) => self.0.ct_eq(&other.0).into(),
            None => false,
        }
    }
}

impl Drop for IdentityKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentityKey(<redacted>)")
    }
}

impl Serialize for IdentityKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for IdentityKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        IdentityKey::from_hex(&s)
            .ok_or_else(|| serde::de::Error::custom("an identity key is 64 hex digits"))
    }
}

/// Where a boot action stands on a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BootActionStatus {
    /// Signalling, nothing reported yet (the reference's `incomplete`).
    Pending,
    /// The node said it started.
    Running,
    /// Final: the node reported success.
    Success,
    /// Final: the node reported failure.
    Failure,
    /// Not signalling: the deployment does not wait for it (the reference's `unreported`).
    Unreported,
}

impl BootActionStatus {
    /// Whether the status can no longer change (`success` or `failure`).
    pub fn is_final(self) -> bool {
        matches!(self, BootActionStatus::Success | BootActionStatus::Failure)
    }

    /// The status as the reference writes it (`incomplete`, `running`, `success`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            BootActionStatus::Pending => "incomplete",
            BootActionStatus::Running => "running",
            BootActionStatus::Success => "success",
            BootActionStatus::Failure => "failure",
            BootActionStatus::Unreported => "unreported",
        }
    }
}

impl fmt::Display for BootActionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One detail a node reported with a status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootActionDetail {
    /// The text.
    pub message: String,
    /// Whether it reports an error.
    pub error: bool,
    /// When it was received.
    pub at: DateTime<Utc>,
}

impl BootActionDetail {
    /// A detail received now.
    pub fn new(message: impl Into<String>, error: bool) -> Self {
        BootActionDetail {
            message: message.into(),
            error,
            at: Utc::now(),
        }
    }
}

/// One boot action on one node for one deployment task.
///
/// `Debug` hides the identity key; the record is otherwise safe to log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootActionRecord {
    /// The action's id.
    pub action_id: ActionId,
    /// The boot action's name in the design.
    pub action_name: String,
    /// The node.
    pub node: String,
    /// The deployment task.
    pub task: TaskId,
    /// The design the task deploys.
    pub design: DesignId,
    /// The node's key for this deployment (the same in all of the node's records of the task).
    pub identity_key: IdentityKey,
    /// Whether the deployment waits for the action's final status.
    pub signaling: bool,
    /// The status.
    pub status: BootActionStatus,
    /// Details reported, in order.
    pub details: Vec<BootActionDetail>,
    /// When the record was created.
    pub created: DateTime<Utc>,
    /// When the status last changed.
    pub updated: Option<DateTime<Utc>>,
}

impl BootActionRecord {
    /// Checks a batch of records for `Store::put_bootactions`: they must all belong to one task
    /// and one node. Returns the first record (`None` for an empty batch). Every store calls it.
    pub fn check_batch(
        records: &[BootActionRecord],
    ) -> crate::store::StoreResult<Option<&BootActionRecord>> {
        let Some(first) = records.first() else {
            return Ok(None);
        };
        if records
            .iter()
            .any(|r| r.task != first.task || r.node != first.node)
        {
            return Err(crate::store::StoreError::new(
                crate::store::StoreErrorKind::Conflict,
                "boot action records of one call must share their task and node",
            )
            .for_task(first.task));
        }
        Ok(Some(first))
    }

    /// Applies a status report for `Store::set_bootaction_status`: refused (`Conflict`, the
    /// reference's 409) when the status is already final. Every store calls it.
    pub fn apply_status(
        &mut self,
        status: BootActionStatus,
        details: &[BootActionDetail],
    ) -> crate::store::StoreResult<()> {
        if self.status.is_final() {
            return Err(crate::store::StoreError::new(
                crate::store::StoreErrorKind::Conflict,
                format!(
                    "Action {} status finalized, not available for update.",
                    self.action_id
                ),
            )
            .for_task(self.task));
        }
        self.status = status;
        self.details.extend(details.iter().cloned());
        self.updated = Some(Utc::now());
        Ok(())
    }

    /// A new record: `Pending` when signalling, else `Unreported`.
    pub fn new(
        action_name: impl Into<String>,
        node: impl Into<String>,
        task: TaskId,
        design: DesignId,
        identity_key: IdentityKey,
        signaling: bool,
    ) -> Self {
        BootActionRecord {
            action_id: ActionId::new(),
            action_name: action_name.into(),
            node: node.into(),
            task,
            design,
            identity_key,
            signaling,
            status: if signaling {
                BootActionStatus::Pending
            } else {
                BootActionStatus::Unreported
            },
            details: Vec::new(),
            created: Utc::now(),
            updated: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_never_show() {
        let key = IdentityKey::generate();
        let hex = key.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(IdentityKey::from_hex(&hex), Some(key.clone()));
        assert_eq!(format!("{key:?}"), "IdentityKey(<redacted>)");
        let record = BootActionRecord::new(
            "hello",
            "n1",
            TaskId::new(),
            DesignId("d".into()),
            key.clone(),
            true,
        );
        assert!(!format!("{record:?}").contains(&hex), "Debug leaks the key");
        let json = serde_json::to_string(&record).unwrap();
        let back: BootActionRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, record);
        assert!(IdentityKey::from_hex(&hex[..63]).is_none());
        assert!(IdentityKey::from_hex(&"g".repeat(64)).is_none());
    }

    #[test]
    fn action_ids_are_base32_ulids() {
        let id = ActionId::new();
        let s = id.to_string();
        assert_eq!(s.len(), 26);
        assert_eq!(s.parse::<ActionId>().unwrap(), id);
        assert!("nope".parse::<ActionId>().is_err());
    }
}
