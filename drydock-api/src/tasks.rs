//! `/api/v1.0/tasks`: create, list, show and purge tasks, and a task's build data.

use std::collections::{HashMap, HashSet};

use axum::Extension;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use drydock_core::design::NodeFilterSet;
use drydock_core::store::{BuildDataRecord, TaskQuery};
use drydock_core::task::{Action, Task, TaskId};
use serde_json::{Map, Value, json};

use crate::auth::{Identity, policy};
use crate::body::Json;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::{AppState, body, site};

/// The policy guarding the creation of a task of `action`.
fn action_policy(action: Action) -> &'static str {
    match action {
        Action::ValidateDesign => policy::VALIDATE_DESIGN,
        Action::VerifySite => policy::VERIFY_SITE,
        Action::PrepareSite => policy::PREPARE_SITE,
        Action::VerifyNodes => policy::VERIFY_NODES,
        Action::PrepareNodes => policy::PREPARE_NODES,
        Action::DeployNodes => policy::DEPLOY_NODES,
        Action::DestroyNodes => policy::DESTROY_NODES,
        #[allow(unreachable_patterns)]
        _ => policy::CREATE_TASK,
    }
}

/// Query parameters as `(name, value)` pairs.
pub(crate) fn query_pairs(raw: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// A boolean query parameter (`true`/`True`/`1`, `false`/`False`/`0`); absent is `false`.
pub(crate) fn query_bool(q: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match q.get(name).map(|v| v.to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v == "true" || v == "1" || v == "yes" => Ok(true),
        Some(v) if v == "false" || v == "0" || v == "no" || v.is_empty() => Ok(false),
        Some(v) => Err(ApiError::bad_request(format!(
            "query parameter {name} must be true or false, not {v:?}"
        ))),
    }
}

fn parse_task_id(id: &str) -> Result<TaskId, ApiError> {
    uuid::Uuid::parse_str(id)
        .map(TaskId)
        .map_err(|_| ApiError::not_found(format!("Task {id} does not exist")))
}

/// `POST /api/v1.0/tasks`: `{action, design_ref, node_filter?}` ⇒ 201, the task, `Location`.
pub(crate) async fn create(
    State(s): State<AppState>,
    Extension(who): Extension<Identity>,
    Extension(cx): Extension<RequestContext>,
    req: Request,
) -> Result<Response, ApiError> {
    // Authenticated at all before the body is read.
    if !who.authenticated {
        s.auth.authorize(&who, policy::CREATE_TASK)?;
    }
    let (parts, body) = req.into_parts();
    let bytes = body::read(body, s.config.max_body_bytes).await?;
    let body: Value = body::json(&parts.headers, &bytes)?.unwrap_or(Value::Null);
    let field = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let (Some(action_name), Some(design_ref)) = (field("action"), field("design_ref")) else {
        return Err(ApiError::bad_request(
            "Task creation requires fields design_ref, action",
        ));
    };
    let action = Action::from_name(action_name)
        .ok_or_else(|| ApiError::bad_request(format!("Unsupported action {action_name}")))?;
    s.auth.authorize(&who, action_policy(action))?;
    let node_filter: Option<NodeFilterSet> = match body.get("node_filter") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value(v.clone())
                .map_err(|e| ApiError::bad_request(format!("invalid node_filter: {e}")))?,
        ),
    };
    let sources = site::resolve(&s, design_ref).await?;
    let design = s.orch.put_design(&sources).await?;
    if action != Action::ValidateDesign
        && let Err(e) = s.orch.design(&design).await
    {
        return Err(site::design_error(
            &crate::design_ref::redact(design_ref),
            e,
        ));
    }
    let task = s
        .orch
        .create_task(
            action,
            &design,
            node_filter,
            &cx.created_by(who.user.as_deref()),
        )
        .await?;
    tracing::info!(task = %task.id, action = %action, design_ref = %crate::design_ref::redact(design_ref), "task created");
    if s.config.run_tasks {
        let handle = s.orch.spawn(task.id);
        let id = task.id;
        tokio::spawn(async move {
            match handle.await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(task = %id, error = %e, "task failed to run"),
                Err(e) => tracing::warn!(task = %id, error = %e, "task runner panicked"),
            }
        });
    }
    let mut resp = (StatusCode::CREATED, Json(task.to_reference_json())).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1.0/tasks/{}", task.id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// `GET /api/v1.0/tasks`: every task.
pub(crate) async fn list(
    State(s): State<AppState>,
    Extension(who): Extension<Identity>,
) -> Result<Json<Value>, ApiError> {
    s.auth.authorize(&who, policy::READ_TASK)?;
    let tasks = s.orch.store().list_tasks(&TaskQuery::default()).await?;
    Ok(Json(Value::Array(
        tasks.iter().map(Task::to_reference_json).collect(),
    )))
}

/// `DELETE /api/v1.0/tasks?days=N`: deletes tasks created more than N days ago (default 90).
pub(crate) async fn purge(
    State(s): State<AppState>,
    Extension(who): Extension<Identity>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    s.auth.authorize(&who, policy::DELETE_TASKS)?;
    let q = query_pairs(raw.as_deref());
    let days: u32 = match q.get("days").map(String::as_str) {
        None | Some("") | Some("None") => 90,
        Some(d) => d.parse().map_err(|_| {
            ApiError::bad_request(format!("days must be a whole number of days, not {d:?}"))
        })?,
    };
    let cutoff = Utc::now()
        .checked_sub_signed(chrono::TimeDelta::days(i64::from(days)))
        .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
    let deleted = s.orch.store().delete_tasks_before(cutoff).await?;
    tracing::info!(days, deleted, "tasks purged");
    Ok((StatusCode::OK, "Tables purged successfully.").into_response())
}

/// Build data of `task` (on the nodes its filter selects in its design, or that it reported).
async fn task_build_data(s: &AppState, task: &Task) -> Result<Vec<BuildDataRecord>, ApiError> {
    let mut nodes: Vec<String> = Vec::new();
    let design = task.design_id.clone();
    if let Ok(d) = s.orch.design(&design).await {
        nodes.extend(
            d.select(task.node_filter.as_ref())
                .into_iter()
                .map(|n| n.name.clone()),
        );
    }
    nodes.extend(task.result.successes.iter().cloned());
    nodes.extend(task.result.failures.iter().cloned());
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for n in nodes {
        if !seen.insert(n.clone()) {
            continue;
        }
        out.extend(
            s.orch
                .store()
                .build_data(&n)
                .await?
                .into_iter()
                .filter(|r| r.task == task.id),
        );
    }
    Ok(out)
}

/// A build data record in the reference's shape.
pub(crate) fn build_data_json(r: &BuildDataRecord) -> Value {
    json!({
        "node_name": r.node,
        "task_id": r.task.to_string(),
        "collected_date": r.collected,
        "generator": r.data.generator,
        "data_format": r.data.format,
        "data_element": r.data.data,
    })
}

/// `GET /api/v1.0/tasks/{id}/builddata` (404 when there is none).
pub(crate) async fn build_data(
    State(s): State<AppState>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    s.auth.authorize(&who, policy::READ_BUILD_DATA)?;
    let task = s.orch.get_task(parse_task_id(&id)?).await?;
    let data = task_build_data(&s, &task).await?;
    if data.is_empty() {
        return Err(ApiError::not_found(format!(
            "No build data found for task {id}"
        )));
    }
    Ok(Json(Value::Array(
        data.iter().map(build_data_json).collect(),
    )))
}

/// Most tasks a `layers` answer holds, whatever the depth asked.
const MAX_LAYER_TASKS: usize = 10_000;

/// `GET /api/v1.0/tasks/{id}[?builddata=true][&subtaskerrors=true][&layers=N]`.
pub(crate) async fn show(
    State(s): State<AppState>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    s.auth.authorize(&who, policy::READ_TASK)?;
    let q = query_pairs(raw.as_deref());
    let builddata = query_bool(&q, "builddata")?;
    let subtaskerrors = query_bool(&q, "subtaskerrors")?;
    let layers: i64 = match q.get("layers").map(String::as_str) {
        None | Some("") => 0,
        Some(l) => l.parse().ok().filter(|l| *l >= -1).ok_or_else(|| {
            ApiError::bad_request(format!(
                "layers must be -1 or a number of layers, not {l:?}"
            ))
        })?,
    };
    let task = s.orch.get_task(parse_task_id(&id)?).await?;
    let mut top = task.to_reference_json();
    if builddata {
        let data = task_build_data(&s, &task).await?;
        top["build_data"] = Value::Array(data.iter().map(build_data_json).collect());
    }
    // Walk the subtask tree once when either option needs it (cycles and sizes bounded).
    let mut tree: Vec<(u32, Task)> = Vec::new();
    if subtaskerrors || layers != 0 {
        let mut seen = HashSet::from([task.id]);
        let mut frontier: Vec<(u32, TaskId)> = task.subtasks.iter().map(|t| (1, *t)).collect();
        while let Some((depth, sid)) = frontier.pop() {
            if tree.len() >= MAX_LAYER_TASKS || !seen.insert(sid) {
                continue;
            }
            let Some(sub) = s.orch.store().get_task(sid).await? else {
                continue;
            };
            frontier.extend(sub.subtasks.iter().map(|t| (depth + 1, *t)));
            tree.push((depth, sub));
        }
    }
    if subtaskerrors {
        let mut errors = Map::new();
        for (_, sub) in &tree {
            if sub.result.error_count() > 0 {
                let mut r = sub.result.to_reference_json();
                r["task_id"] = json!(sub.id.to_string());
                errors.insert(sub.id.to_string(), r);
            }
        }
        top["subtask_errors"] = Value::Object(errors);
    }
    if layers == 0 {
        return Ok(Json(top));
    }
    let mut out = Map::new();
    out.insert("init_task_id".into(), json!(task.id.to_string()));
    out.insert(task.id.to_string(), top);
    for (depth, sub) in &tree {
        if layers == -1 || i64::from(*depth) <= layers {
            out.insert(sub.id.to_string(), sub.to_reference_json());
        }
    }
    Ok(Json(Value::Object(out)))
}
