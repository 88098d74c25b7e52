//! Site-level endpoints: versions, health, design validation, node filters, nodes and their
//! build data; and reading design references for the other handlers.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use drydock_core::design::{Diagnostics, NodeFilterSet, Severity, Source, compile, ingest_sources};
use drydock_core::orchestrator::OrchestratorError;
use drydock_core::store::TaskQuery;
use drydock_core::task::TaskId;
use drydock_core::validation::{ValidationContext, validate};
use serde_json::{Value, json};

use crate::auth::{Identity, policy};
use crate::body::Json;
use crate::error::ApiError;
use crate::tasks::{build_data_json, query_bool, query_pairs};
use crate::{AppState, body};

/// Reads a design reference; an unreadable one is a 400 naming it (`retry` when a later try
/// may succeed).
pub(crate) async fn resolve(s: &AppState, reference: &str) -> Result<Arc<Vec<Source>>, ApiError> {
    s.resolver.resolve(reference).await.map_err(|e| ApiError {
        status: StatusCode::BAD_REQUEST,
        retry: e.is_retryable(),
        message: e.to_string(),
    })
}

/// At most this many problems are quoted in an error message.
const QUOTED: usize = 5;

fn quote(diags: &Diagnostics) -> String {
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error())
        .take(QUOTED)
        .map(ToString::to_string)
        .collect();
    let more = diags.error_count().saturating_sub(errors.len());
    let mut s = errors.join("; ");
    if more > 0 {
        s.push_str(&format!("; and {more} more"));
    }
    s
}

/// A 400 for a design (given by `reference`) that does not read or compile.
pub(crate) fn design_error(reference: &str, e: OrchestratorError) -> ApiError {
    match e {
        OrchestratorError::Design(d) => ApiError::bad_request(format!(
            "design reference {reference}: the design does not read or compile: {}",
            quote(&d)
        )),
        other => other.into(),
    }
}

/// `GET /versions`.
pub(crate) async fn versions() -> Json<Value> {
    Json(json!({"v1.0": {"path": "/api/v1.0", "status": "stable"}}))
}

/// The JSON 404 for any other path.
pub(crate) async fn not_found(req: Request) -> ApiError {
    ApiError::not_found(format!(
        "no such resource: {} {}",
        req.method(),
        req.uri().path()
    ))
}

/// Checks the store and the node driver; the problems found.
async fn check_health(s: &AppState) -> Vec<String> {
    let limit = s.config.health_timeout;
    let mut problems = Vec::new();
    let store = s.orch.store().clone();
    match tokio::time::timeout(limit, store.get_task(TaskId::new())).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => problems.push(format!("Unable to connect to the store: {e}")),
        Err(_) => problems.push("Unable to connect to the store: timed out".into()),
    }
    match s.orch.node_driver() {
        None => problems.push("No node driver enabled.".into()),
        Some(d) => match tokio::time::timeout(limit, d.validate_services()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => problems.push(format!("Unable to connect to the node driver: {e}")),
            Err(_) => problems.push("Unable to connect to the node driver: timed out".into()),
        },
    }
    problems
}

/// `GET /api/v1.0/health`: 204 when the store and the node driver answer, else 503.
pub(crate) async fn health(State(s): State<AppState>) -> StatusCode {
    let problems = check_health(&s).await;
    if problems.is_empty() {
        StatusCode::NO_CONTENT
    } else {
        for p in &problems {
            tracing::warn!(problem = %p, "health check");
        }
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// `GET /api/v1.0/health/extended`: the same check as a `Status` body, 200 or 503.
pub(crate) async fn health_extended(
    State(s): State<AppState>,
    Extension(who): Extension<Identity>,
) -> Result<Response, ApiError> {
    s.auth.authorize(&who, policy::HEALTH_DATA)?;
    let problems = check_health(&s).await;
    let ok = problems.is_empty();
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "kind": "Status",
        "apiVersion": "v1.0",
        "metadata": {},
        "status": if ok { "Success" } else { "Failure" },
        "message": if ok { "" } else { "Drydock failed to respond" },
        "reason": "HealthCheck",
        "details": {
            "errorCount": problems.len(),
            "messageList": problems.iter().map(|p| json!({
                "message": p, "error": true, "kind": "SimpleMessage"
            })).collect::<Vec<_>>(),
        },
        "code": code.as_u16(),
    });
    Ok((code, Json(body)).into_response())
}

/// A `Status` body of one failure (a design that cannot be read) for `/validatedesign`.
fn failed_status(messages: Vec<Value>) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1.0",
        "metadata": {},
        "message": "Site design failed validation.",
        "reason": "See detail messages.",
        "status": "Failure",
        "details": {"errorCount": messages.iter().filter(|m| m["error"] == json!(true)).count(),
                    "messageList": messages},
        "code": 400,
    })
}

fn level_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "Error",
        Severity::Warning => "Warning",
        Severity::Info => "Info",
    }
}

/// `POST /api/v1.0/validatedesign`: `{href}` ⇒ the validation report, 200 valid or 400.
pub(crate) async fn validate_design(
    State(s): State<AppState>,
    Extension(who): Extension<Identity>,
    req: Request,
) -> Result<Response, ApiError> {
    s.auth.authorize(&who, policy::VALIDATE_SITE_DESIGN)?;
    let (parts, body) = req.into_parts();
    let bytes = body::read(body, s.config.max_body_bytes).await?;
    let Some(body): Option<Value> = body::json(&parts.headers, &bytes)? else {
        return Err(ApiError::bad_request(
            "Request body must not be empty for validation.",
        ));
    };
    let Some(href) = body
        .get("href")
        .and_then(Value::as_str)
        .filter(|h| !h.is_empty())
    else {
        return Err(ApiError::bad_request(
            "The \"href\" key must be provided in the request body.",
        ));
    };
    let sources = match s.resolver.resolve(href).await {
        Ok(s) => s,
        Err(e) => {
            let msg = json!({
                "kind": "ValidationMessage", "name": "DD000", "message": e.to_string(),
                "error": true, "level": "Error", "diagnostic": "", "documents": [],
            });
            return Ok((StatusCode::BAD_REQUEST, Json(failed_status(vec![msg]))).into_response());
        }
    };
    let href = href.to_owned();
    // The node driver's images and kernels, for the platform selection rule (as the
    // reference, which validates with its enabled drivers). Unreachable: the rule only warns.
    let cx = match s.orch.node_driver() {
        Some(d) => {
            match tokio::time::timeout(s.config.health_timeout, d.available_platforms()).await {
                Ok(Ok(catalog)) => ValidationContext::with_platform(catalog),
                _ => ValidationContext::default(),
            }
        }
        None => ValidationContext::default(),
    };
    // Reading, compiling and validating a large design is CPU work: off the async threads.
    let report =
        tokio::task::spawn_blocking(move || match ingest_sources(&sources).and_then(compile) {
            Ok(design) => {
                let report = validate(&design, &cx);
                let valid = report.is_valid();
                let mut v = serde_json::to_value(&report).unwrap_or(Value::Null);
                v["code"] = json!(if valid { 200 } else { 400 });
                (valid, v)
            }
            Err(diags) => {
                let msgs = diags
                    .iter()
                    .map(|d| {
                        json!({
                            "kind": "ValidationMessage",
                            "name": d.kind.reference_code(),
                            "message": match &d.field {
                                Some(f) => format!("{f}: {}", d.message),
                                None => d.message.clone(),
                            },
                            "error": d.is_error(),
                            "level": level_name(d.severity),
                            "diagnostic": d.kind.title(),
                            "documents": d.document.iter().collect::<Vec<_>>(),
                            "rule": d.kind.id(),
                            "location": d.location.as_ref().map(ToString::to_string),
                        })
                    })
                    .collect();
                (false, failed_status(msgs))
            }
        })
        .await
        .map_err(|e| {
            let href = crate::design_ref::redact(&href);
            ApiError::internal(format!("validation of {href} failed: {e}"), false)
        })?;
    let code = if report.0 {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((code, Json(report.1)).into_response())
}

/// `POST /api/v1.0/nodefilter`: `{design_ref, node_filter?}` ⇒ the names of the nodes selected.
pub(crate) async fn node_filter(
    State(s): State<AppState>,
    Extension(who): Extension<Identity>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    s.auth.authorize(&who, policy::READ_DATA)?;
    let (parts, body) = req.into_parts();
    let bytes = body::read(body, s.config.max_body_bytes).await?;
    let body: Value = body::json(&parts.headers, &bytes)?.unwrap_or(Value::Null);
    let Some(design_ref) = body
        .get("design_ref")
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty())
    else {
        return Err(ApiError::bad_request(
            "Invalid body: design_ref is required",
        ));
    };
    let filter: Option<NodeFilterSet> = match body.get("node_filter") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value(v.clone())
                .map_err(|e| ApiError::bad_request(format!("invalid node_filter: {e}")))?,
        ),
    };
    let sources = resolve(&s, design_ref).await?;
    let design = s.orch.put_design(&sources).await?;
    let compiled = s
        .orch
        .design(&design)
        .await
        .map_err(|e| design_error(&crate::design_ref::redact(design_ref), e))?;
    let names: Vec<&str> = compiled
        .select(filter.as_ref())
        .into_iter()
        .map(|n| n.name.as_str())
        .collect();
    Ok(Json(json!(names)))
}

/// `GET /api/v1.0/nodes`: the nodes of the design of the latest task, as far as the design
/// knows them (drydock has no provisioner inventory call; see docs/compatibility.md).
#[allow(clippy::field_reassign_with_default)]
pub(crate) async fn nodes(
    State(s): State<AppState>,
    Extension(who): Extension<Identity>,
) -> Result<Json<Value>, ApiError> {
    s.auth.authorize(&who, policy::READ_DATA)?;
    // Field by field: core's query types may become `non_exhaustive`.
    let mut query = TaskQuery::default();
    query.top_level_only = true;
    let tasks = s.orch.store().list_tasks(&query).await?;
    let Some(latest) = tasks.last() else {
        return Ok(Json(json!([])));
    };
    let design = latest.design_id.clone();
    let compiled = s
        .orch
        .design(&design)
        .await
        .map_err(|e| design_error(&latest.design_id.0, e))?;
    let nodes: Vec<Value> = compiled
        .nodes
        .values()
        .map(|n| {
            json!({
                "hostname": n.name,
                "memory": null,
                "cpu_count": null,
                "status_name": null,
                "boot_mac": n.boot_mac,
                "power_state": null,
                "power_address": n.oob_address().map(|a| a.to_string()),
                "boot_ip": null,
            })
        })
        .collect();
    Ok(Json(Value::Array(nodes)))
}

/// `GET /api/v1.0/nodes/{hostname}/builddata[?latest=true]` (404 when there is none).
pub(crate) async fn node_build_data(
    State(s): State<AppState>,
    Extension(who): Extension<Identity>,
    Path(hostname): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    s.auth.authorize(&who, policy::READ_BUILD_DATA)?;
    let latest = query_bool(&query_pairs(raw.as_deref()), "latest")?;
    let mut records = s.orch.store().build_data(&hostname).await?;
    if latest {
        // The newest record of each generator.
        records.sort_by_key(|r| std::cmp::Reverse(r.collected));
        let mut seen = std::collections::HashSet::new();
        records.retain(|r| seen.insert(r.data.generator.clone()));
    }
    if records.is_empty() {
        return Err(ApiError::not_found(format!(
            "No build data found for node {hostname}"
        )));
    }
    Ok(Json(Value::Array(
        records.iter().map(build_data_json).collect(),
    )))
}
