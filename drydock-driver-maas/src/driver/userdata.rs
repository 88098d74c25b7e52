//! The cloud-init `user_data` a deployment carries: the node's boot action packages and its
//! boot action identity.
//!
//! Drydock sends the packages of the node's `pkg_list` assets as `#cloud-config` `packages:`,
//! and the node's identity key as a MAAS tag `<node>__baid__<key hex>` (defect 14: every MAAS
//! user can read every node's key). This driver sends both in the deploy request's `user_data`
//! and creates no tag:
//!
//! * `packages:` lists each package as `name` or `[name, version]`, merged over every boot
//!   action targeting the node ([`node_package_list`](drydock_core::bootaction::node_package_list),
//!   Drydock's `find_node_package_lists`);
//! * `write_files:` holds one root-only file ([`IDENTITY_FILE`], mode `0600`, owner
//!   `root:root`) with what the node needs to call the embedder's boot action API: a JSON object
//!
//!   ```json
//!   {"node": "n01", "identity_key": "<64 hex digits>",
//!    "report_url": "http://drydock:9000/api/v1.0/bootactions/",
//!    "units_url": "http://drydock:9000/api/v1.0/bootactions/nodes/n01/units",
//!    "files_url": "http://drydock:9000/api/v1.0/bootactions/nodes/n01/files",
//!    "actions": [{"name": "hello", "action_id": "01J…", "signaling": true,
//!                 "report_url": "http://drydock:9000/api/v1.0/bootactions/01J…"}]}
//!   ```
//!
//!   (the key goes in the `X-Bootaction-Key` header). Only the node and MAAS administrators,
//!   who can read any deployment's user data, see it.
//!
//! The document is JSON after the `#cloud-config` line: JSON is YAML, and `serde_json` escapes
//! every string, so no package name or version can break it.

use drydock_core::bootaction::{BootActionRecord, IdentityKey};
use indexmap::IndexMap;
use serde_json::{Value, json};
use zeroize::Zeroizing;

/// Where the node's boot action identity is written on the node (mode `0600`, `root:root`).
pub const IDENTITY_FILE: &str = "/etc/drydock/bootaction.json";

/// What a node needs to call the embedder's boot action API: its name, key, the API's URL and
/// its boot action ids. `Debug` hides the key.
#[derive(Clone, Debug)]
pub struct BootActionIdentity {
    /// The node's name.
    pub node: String,
    /// The node's key for this deployment.
    pub key: IdentityKey,
    /// The embedder's boot action API (`http://drydock:9000/api/v1.0/bootactions/`).
    pub report_url: String,
    /// Boot actions: (name, action id, signalling).
    pub actions: Vec<(String, String, bool)>,
}

impl BootActionIdentity {
    /// The identity of one deployment's `records` (one node, one task, one key, as
    /// [`BootActions::create_for_node`](drydock_core::bootaction::BootActions::create_for_node)
    /// makes them); `None` without records.
    pub fn from_records(records: &[BootActionRecord], report_url: &str) -> Option<Self> {
        let first = records.first()?;
        Some(BootActionIdentity {
            node: first.node.clone(),
            key: first.identity_key.clone(),
            report_url: report_url.to_owned(),
            actions: records
                .iter()
                .map(|r| (r.action_name.clone(), r.action_id.to_string(), r.signaling))
                .collect(),
        })
    }

    /// The contents of [`IDENTITY_FILE`]. Holds the key: treat it as a secret.
    pub fn file_contents(&self) -> Zeroizing<String> {
        let base = if self.report_url.ends_with('/') {
            self.report_url.clone()
        } else {
            format!("{}/", self.report_url)
        };
        let actions: Vec<Value> = self
            .actions
            .iter()
            .map(|(name, id, signaling)| {
                json!({"name": name, "action_id": id, "signaling": signaling,
                    "report_url": format!("{base}{id}")})
            })
            .collect();
        let key = Zeroizing::new(self.key.to_hex());
        let mut doc = json!({
            "node": self.node,
            "identity_key": key.as_str(),
            "report_url": base,
            "units_url": format!("{base}nodes/{}/units", self.node),
            "files_url": format!("{base}nodes/{}/files", self.node),
            "actions": actions,
        });
        let text = Zeroizing::new(serde_json::to_string_pretty(&doc).unwrap_or_default());
        wipe(&mut doc);
        text
    }
}

/// Overwrites the strings of a JSON value that held a secret.
fn wipe(v: &mut Value) {
    use zeroize::Zeroize;
    match v {
        Value::String(s) => s.zeroize(),
        Value::Array(a) => a.iter_mut().for_each(wipe),
        Value::Object(o) => o.values_mut().for_each(wipe),
        _ => {}
    }
}

/// The `#cloud-config` document for `packages` (name → version, `None` for any version) and
/// `identity`; `None` when there is nothing to send.
///
/// ```
/// use indexmap::IndexMap;
/// use drydock_driver_maas::driver::userdata::cloud_config;
/// let mut packages = IndexMap::new();
/// packages.insert("curl".to_owned(), None);
/// packages.insert("odd: name #1".to_owned(), Some("1:2.0-1".to_owned()));
/// let doc = cloud_config(&packages, None).unwrap();
/// let body = doc.strip_prefix("#cloud-config\n").unwrap();
/// let v: serde_json::Value = serde_json::from_str(body).unwrap();
/// assert_eq!(v["packages"], serde_json::json!(["curl", ["odd: name #1", "1:2.0-1"]]));
/// assert!(cloud_config(&IndexMap::new(), None).is_none());
/// ```
pub fn cloud_config(
    packages: &IndexMap<String, Option<String>>,
    identity: Option<&BootActionIdentity>,
) -> Option<Zeroizing<String>> {
    if packages.is_empty() && identity.is_none() {
        return None;
    }
    let mut doc = serde_json::Map::new();
    if !packages.is_empty() {
        let list: Vec<Value> = packages
            .iter()
            .map(|(name, version)| match version {
                Some(v) => json!([name, v]),
                None => json!(name),
            })
            .collect();
        doc.insert("packages".to_owned(), Value::Array(list));
    }
    if let Some(id) = identity {
        let contents = id.file_contents();
        doc.insert(
            "write_files".to_owned(),
            json!([{
                "path": IDENTITY_FILE,
                "content": contents.as_str(),
                "owner": "root:root",
                "permissions": "0600",
            }]),
        );
    }
    let mut doc = Value::Object(doc);
    let body = Zeroizing::new(serde_json::to_string_pretty(&doc).unwrap_or_default());
    wipe(&mut doc);
    Some(Zeroizing::new(format!(
        "#cloud-config\n{}\n",
        body.as_str()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use drydock_core::bootaction::IdentityKey;

    fn identity(key: &IdentityKey) -> BootActionIdentity {
        BootActionIdentity {
            node: "n01".into(),
            key: key.clone(),
            report_url: "http://drydock:9000/api/v1.0/bootactions".into(),
            actions: vec![("hello".into(), "01ARZ3NDEKTSV4RRFFQ69G5FAV".into(), true)],
        }
    }

    #[test]
    fn the_identity_file_is_root_only_and_holds_the_key_and_urls() {
        let key = IdentityKey::generate();
        let doc = cloud_config(&IndexMap::new(), Some(&identity(&key))).unwrap();
        let v: Value = serde_json::from_str(doc.strip_prefix("#cloud-config\n").unwrap()).unwrap();
        assert!(v.get("packages").is_none());
        let files = v["write_files"].as_array().unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0]["path"], IDENTITY_FILE);
        assert_eq!(files[0]["permissions"], "0600");
        assert_eq!(files[0]["owner"], "root:root");
        let inner: Value = serde_json::from_str(files[0]["content"].as_str().unwrap()).unwrap();
        assert_eq!(inner["identity_key"], key.to_hex());
        assert_eq!(
            inner["files_url"],
            "http://drydock:9000/api/v1.0/bootactions/nodes/n01/files"
        );
        assert_eq!(
            inner["actions"][0]["report_url"],
            "http://drydock:9000/api/v1.0/bootactions/01ARZ3NDEKTSV4RRFFQ69G5FAV"
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let key = IdentityKey::generate();
        let shown = format!("{:?}", identity(&key));
        assert!(!shown.contains(&key.to_hex()), "{shown}");
    }
}
