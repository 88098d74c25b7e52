//! Boot action endpoints (`drydock.md` §6.2): assets for deployed nodes and their status
//! reports, authenticated by the node's identity key only.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use drydock_core::bootaction::{ActionId, BootActionError, ReportStatus};
use drydock_core::design::AssetType;
use serde::Deserialize;

use crate::AppState;
use crate::body;
use crate::error::ApiError;

/// Header carrying the node's identity key (hex).
pub(crate) const KEY_HEADER: &str = "x-bootaction-key";

fn node_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Reads an asset `location` on this server's file system (`file://` only, at most 16 MiB).
fn file_location(location: &str) -> Result<Vec<u8>, String> {
    const LIMIT: u64 = 16 << 20;
    let url = url::Url::parse(location).map_err(|e| format!("{location}: not a URL ({e})"))?;
    if url.scheme() != "file" {
        return Err(format!(
            "{location}: only file:// asset locations are served by the API"
        ));
    }
    let path = url
        .to_file_path()
        .map_err(|()| format!("{location}: not a local absolute path"))?;
    let meta = std::fs::metadata(&path).map_err(|e| format!("{location}: {e}"))?;
    if meta.len() > LIMIT {
        return Err(format!("{location}: larger than {LIMIT} bytes"));
    }
    std::fs::read(&path).map_err(|e| format!("{location}: {e}"))
}

async fn assets(s: AppState, host: String, headers: HeaderMap, kind: AssetType) -> Response {
    let label = match kind {
        AssetType::Unit => "units",
        _ => "files",
    };
    let resolver = file_location;
    match s
        .orch
        .bootaction_tarball(&host, kind, node_key(&headers), Some(&resolver))
        .await
    {
        Ok(tar) => {
            let mut resp = (StatusCode::OK, tar).into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/gzip"),
            );
            // Only a plain host name goes into the header (it comes from the URL).
            if host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                && let Ok(v) = HeaderValue::from_str(&format!(
                    "attachment; filename=\"{host}-{label}.tar.gz\""
                ))
            {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            resp
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `GET /api/v1.0/bootactions/nodes/{hostname}/units`.
pub(crate) async fn units(
    State(s): State<AppState>,
    Path(host): Path<String>,
    headers: HeaderMap,
) -> Response {
    assets(s, host, headers, AssetType::Unit).await
}

/// `GET /api/v1.0/bootactions/nodes/{hostname}/files`.
pub(crate) async fn files(
    State(s): State<AppState>,
    Path(host): Path<String>,
    headers: HeaderMap,
) -> Response {
    assets(s, host, headers, AssetType::File).await
}

/// A final status as the reference's schema spells it.
#[derive(Debug, Deserialize)]
enum FinalStatus {
    #[serde(alias = "success")]
    Success,
    #[serde(alias = "failure")]
    Failure,
}

#[derive(Debug, Deserialize)]
struct Detail {
    message: String,
    #[serde(default)]
    error: bool,
    // Further fields are accepted and ignored (the reference crashes on them).
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    status: Option<FinalStatus>,
    #[serde(default)]
    details: Vec<Detail>,
}

/// `POST /api/v1.0/bootactions/{action_id}`: records a status. Checks in the reference's order:
/// unknown action 404, key 401/403, body 400, final status 409.
pub(crate) async fn report(
    State(s): State<AppState>,
    Path(action_id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = body::read(body, s.config.bootaction_max_body_bytes).await?;
    let id: ActionId = action_id
        .parse()
        .map_err(|_| ApiError::not_found(format!("boot action {action_id} does not exist")))?;
    let actions = s.orch.bootactions();
    let record = s
        .orch
        .store()
        .get_bootaction(id)
        .await?
        .ok_or(BootActionError::UnknownAction(id))?;
    let key = node_key(&parts.headers);
    match key {
        None => return Err(BootActionError::MissingKey.into()),
        Some(k) if !record.identity_key.matches_hex(k) => {
            return Err(BootActionError::InvalidKey.into());
        }
        Some(_) => {}
    }
    let parsed: ReportBody = body::json(&parts.headers, &bytes)
        .map_err(|e| ApiError::bad_request(format!("Error processing body. {}", e.message)))?
        .unwrap_or(ReportBody {
            status: None,
            details: Vec::new(),
        });
    let status = match parsed.status {
        None => ReportStatus::Running,
        Some(FinalStatus::Success) => ReportStatus::Success,
        Some(FinalStatus::Failure) => ReportStatus::Failure,
    };
    let details: Vec<(String, bool)> = parsed
        .details
        .into_iter()
        .map(|d| (d.message, d.error))
        .collect();
    let stored = actions.report(id, key, status, &details).await?;
    tracing::info!(node = %stored.node, action = %stored.action_name, status = %stored.status, "boot action report");
    let out = serde_json::json!({
        "node_name": stored.node,
        "action_id": stored.action_id.to_string(),
        "action_name": stored.action_name,
        "task_id": stored.task.to_string(),
        "action_status": stored.status.as_str(),
    });
    Ok((StatusCode::OK, crate::body::Json(out)).into_response())
}
