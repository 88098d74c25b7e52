//! An HTTP agent for drydock-core's simulated nodes (feature `sim`): once deployed, a simulated
//! node fetches its boot action units and files from this API with its key and reports each
//! action's status to it, as a real node does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use drydock_core::bootaction::{ActionId, ReportStatus};
use drydock_core::sim::SimNodeAgent;

/// The tarballs one node fetched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchedAssets {
    /// The gzipped tar of its units.
    pub units: Vec<u8>,
    /// The gzipped tar of its files.
    pub files: Vec<u8>,
}

/// Talks to a drydock API at a base URL (`http://127.0.0.1:9000`) for simulated nodes.
#[derive(Clone, Debug)]
pub struct HttpNodeAgent {
    base: String,
    client: reqwest::Client,
    keep: bool,
    fetched: Arc<Mutex<HashMap<String, FetchedAssets>>>,
}

impl HttpNodeAgent {
    /// An agent for the API at `base` (scheme, host and port). Each request times out after
    /// 30 s.
    pub fn new(base: impl Into<String>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        HttpNodeAgent {
            base: base.into().trim_end_matches('/').to_owned(),
            client,
            keep: false,
            fetched: Arc::default(),
        }
    }

    /// Keeps every node's tarballs, for [`HttpNodeAgent::fetched`] (tests).
    pub fn keeping_assets(mut self) -> Self {
        self.keep = true;
        self
    }

    /// What `node` fetched last (only when keeping assets).
    pub fn fetched(&self, node: &str) -> Option<FetchedAssets> {
        self.fetched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(node)
            .cloned()
    }

    async fn get(&self, node: &str, kind: &str, key: &str) -> Result<Vec<u8>, String> {
        let url = format!("{}/api/v1.0/bootactions/nodes/{node}/{kind}", self.base);
        let resp = self
            .client
            .get(&url)
            .header("X-Bootaction-Key", key)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| format!("GET {url}: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "GET {url}: HTTP {}: {}",
                status.as_u16(),
                String::from_utf8_lossy(&body)
            ));
        }
        if !body.starts_with(&[0x1f, 0x8b]) {
            return Err(format!("GET {url}: the answer is not gzip data"));
        }
        Ok(body.to_vec())
    }
}

#[async_trait]
impl SimNodeAgent for HttpNodeAgent {
    async fn fetch_assets(&self, node: &str, key: &str) -> Result<(), String> {
        let units = self.get(node, "units", key).await?;
        let files = self.get(node, "files", key).await?;
        if self.keep {
            self.fetched
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(node.to_owned(), FetchedAssets { units, files });
        }
        Ok(())
    }

    async fn report(
        &self,
        action: ActionId,
        key: Option<&str>,
        status: ReportStatus,
        details: &[(String, bool)],
    ) -> Result<(), String> {
        let url = format!("{}/api/v1.0/bootactions/{action}", self.base);
        let mut body = serde_json::json!({
            "details": details
                .iter()
                .map(|(m, e)| serde_json::json!({"message": m, "error": e}))
                .collect::<Vec<_>>(),
        });
        match status {
            ReportStatus::Success => body["status"] = "success".into(),
            ReportStatus::Failure => body["status"] = "failure".into(),
            _ => {}
        }
        let mut req = self
            .client
            .post(&url)
            .header("Content-Type", "application/json")
            .body(body.to_string());
        if let Some(k) = key {
            req = req.header("X-Bootaction-Key", k);
        }
        let resp = req.send().await.map_err(|e| format!("POST {url}: {e}"))?;
        let code = resp.status();
        if code.is_success() {
            return Ok(());
        }
        let text = resp.text().await.unwrap_or_default();
        Err(format!("POST {url}: HTTP {}: {text}", code.as_u16()))
    }
}
