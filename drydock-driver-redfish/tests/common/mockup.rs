//! A small Redfish service written here, for what sushy-tools' emulator lacks: sessions,
//! ETags with `If-Match`, `202` task monitors with `Retry-After`, `503`, reset types listed in
//! an `ActionInfo`, `@Message.ExtendedInfo` errors, oversized bodies. Its data are made up for
//! these tests. Every resource but the service root and the sessions collection requires a
//! session token: HTTP basic is refused, so a test passing proves sessions were used.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub const SYSTEM: &str = "/redfish/v1/Systems/blade-7";
pub const USER: &str = "operator";
pub const PASSWORD: &str = "mockup-Passw0rd";

/// The service's state, shared with the test.
#[derive(Debug)]
pub struct Mock {
    pub tokens: HashMap<String, u32>,
    pub next_session: u32,
    pub sessions_created: u32,
    pub sessions_deleted: u32,
    pub power: &'static str,
    pub boot_target: String,
    pub boot_enabled: String,
    pub boot_mode: String,
    pub generation: u32,
    /// Requests to answer `503` before serving again.
    pub unavailable: u32,
    /// Polls of a task monitor answered `202` before it completes.
    pub task_polls: u32,
    /// Tasks end in `Exception`.
    pub fail_tasks: bool,
    /// The system's body carries this many bytes of padding.
    pub padding: usize,
    /// Resets asked for, in order.
    pub resets: Vec<String>,
    /// PATCHes received without `If-Match`.
    pub patches_without_etag: u32,
    /// PATCHes to refuse with `412` whatever their `If-Match`.
    pub stale_etags: u32,
    pending: HashMap<u32, (u32, &'static str)>,
    next_task: u32,
}

pub type Shared = Arc<Mutex<Mock>>;

/// Starts the service on a free port; returns its port and state.
pub async fn start() -> (u16, Shared) {
    let state: Shared = Arc::new(Mutex::new(Mock {
        tokens: HashMap::new(),
        next_session: 1,
        sessions_created: 0,
        sessions_deleted: 0,
        power: "Off",
        boot_target: "None".into(),
        boot_enabled: "Disabled".into(),
        boot_mode: "UEFI".into(),
        generation: 1,
        unavailable: 0,
        task_polls: 2,
        fail_tasks: false,
        padding: 0,
        resets: Vec::new(),
        patches_without_etag: 0,
        stale_etags: 0,
        pending: HashMap::new(),
        next_task: 1,
    }));
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (port, state)
}

fn error(status: StatusCode, message: &str, id: &str, detail: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {
            "code": "Base.1.8.GeneralError",
            "message": message,
            "@Message.ExtendedInfo": [{"MessageId": id, "Message": detail}],
        }})),
    )
        .into_response()
}

fn etag(m: &Mock) -> String {
    format!("W/\"gen-{}\"", m.generation)
}

fn system(m: &Mock) -> Value {
    json!({
        "@odata.id": SYSTEM,
        "@odata.etag": etag(m),
        "Id": "blade-7",
        "UUID": "00000000-0000-4000-8000-00000000b7b7",
        "Manufacturer": "Drydock Test Works",
        "Model": "DT-1000",
        "SerialNumber": "SN-0042",
        "BiosVersion": "2.7.1",
        "PowerState": m.power,
        "Status": {"State": "Enabled", "Health": "Warning"},
        "ProcessorSummary": {"Count": 2, "Model": "Test CPU 64-core"},
        "MemorySummary": {"TotalSystemMemoryGiB": 512},
        "Boot": {
            "BootSourceOverrideTarget": m.boot_target,
            "BootSourceOverrideEnabled": m.boot_enabled,
            "BootSourceOverrideMode": m.boot_mode,
            "BootSourceOverrideTarget@Redfish.AllowableValues":
                ["None", "Pxe", "Hdd", "BiosSetup", "UefiHttp"],
        },
        "Actions": {"#ComputerSystem.Reset": {
            "target": format!("{SYSTEM}/Actions/ComputerSystem.Reset"),
            "@Redfish.ActionInfo": format!("{SYSTEM}/ResetActionInfo"),
        }},
        "EthernetInterfaces": {"@odata.id": format!("{SYSTEM}/EthernetInterfaces")},
        "Links": {"ManagedBy": [{"@odata.id": "/redfish/v1/Managers/bmc"}]},
        "Padding": "x".repeat(m.padding),
    })
}

async fn handle(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_end_matches('/').to_owned();
    let mut m = state.lock().unwrap();
    let ok = |v: Value| (StatusCode::OK, axum::Json(v)).into_response();
    // Open resources.
    match (&method, path.as_str()) {
        (&Method::GET, "/redfish/v1") => {
            return ok(json!({
                "@odata.id": "/redfish/v1/",
                "RedfishVersion": "1.17.0",
                "Systems": {"@odata.id": "/redfish/v1/Systems"},
                "Managers": {"@odata.id": "/redfish/v1/Managers"},
                "SessionService": {"@odata.id": "/redfish/v1/SessionService"},
                "Links": {"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}},
            }));
        }
        (&Method::POST, "/redfish/v1/SessionService/Sessions") => {
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if v["UserName"] != USER || v["Password"] != PASSWORD {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "Login failed",
                    "Base.1.8.NoValidSession",
                    "The user name or password is wrong.",
                );
            }
            let id = m.next_session;
            m.next_session += 1;
            m.sessions_created += 1;
            let token = format!("tok-{id}-{}", rand_suffix(id));
            m.tokens.insert(token.clone(), id);
            let location = format!("/redfish/v1/SessionService/Sessions/{id}");
            return (
                StatusCode::CREATED,
                [("x-auth-token", token), ("location", location.clone())],
                axum::Json(json!({"@odata.id": location, "Id": id.to_string()})),
            )
                .into_response();
        }
        _ => {}
    }
    let token = headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(&session) = m.tokens.get(token) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "No valid session",
            "Base.1.8.NoValidSession",
            "A session token is required.",
        );
    };
    if m.unavailable > 0 {
        m.unavailable -= 1;
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "1")],
            "busy",
        )
            .into_response();
    }
    match (&method, path.as_str()) {
        (&Method::DELETE, p) if p.starts_with("/redfish/v1/SessionService/Sessions/") => {
            let id: u32 = p.rsplit('/').next().unwrap().parse().unwrap_or(0);
            if id != session {
                return error(
                    StatusCode::FORBIDDEN,
                    "Not yours",
                    "Base.1.8.InsufficientPrivilege",
                    "",
                );
            }
            m.tokens.retain(|_, s| *s != id);
            m.sessions_deleted += 1;
            StatusCode::NO_CONTENT.into_response()
        }
        (&Method::GET, "/redfish/v1/Systems") => ok(json!({
            "Members": [{"@odata.id": SYSTEM}], "Members@odata.count": 1,
        })),
        (&Method::GET, SYSTEM) => {
            let body = system(&m);
            (StatusCode::OK, [("etag", etag(&m))], axum::Json(body)).into_response()
        }
        (&Method::PATCH, SYSTEM) => {
            match headers.get("if-match").and_then(|v| v.to_str().ok()) {
                None => m.patches_without_etag += 1,
                Some(tag) if tag != etag(&m) || m.stale_etags > 0 => {
                    m.stale_etags = m.stale_etags.saturating_sub(1);
                    return error(
                        StatusCode::PRECONDITION_FAILED,
                        "ETag mismatch",
                        "Base.1.8.PreconditionFailed",
                        "The resource has changed.",
                    );
                }
                Some(_) => {}
            }
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let boot = &v["Boot"];
            if let Some(t) = boot["BootSourceOverrideTarget"].as_str() {
                if !["None", "Pxe", "Hdd", "BiosSetup", "UefiHttp"].contains(&t) {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "Bad property value",
                        "Base.1.8.PropertyValueNotInList",
                        &format!("The value {t} is not in the list of acceptable values."),
                    );
                }
                m.boot_target = t.into();
            }
            if let Some(e) = boot["BootSourceOverrideEnabled"].as_str() {
                m.boot_enabled = e.into();
            }
            if let Some(md) = boot["BootSourceOverrideMode"].as_str() {
                m.boot_mode = md.into();
            }
            m.generation += 1;
            StatusCode::NO_CONTENT.into_response()
        }
        (&Method::GET, p) if p == format!("{SYSTEM}/ResetActionInfo") => ok(json!({
            "Parameters": [{"Name": "ResetType", "Required": true,
                "AllowableValues": ["On", "ForceOff", "PowerCycle"]}],
        })),
        (&Method::POST, p) if p == format!("{SYSTEM}/Actions/ComputerSystem.Reset") => {
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let kind = v["ResetType"].as_str().unwrap_or("").to_owned();
            let after = match kind.as_str() {
                "On" => "On",
                "ForceOff" => "Off",
                "PowerCycle" => "On",
                _ => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "Bad reset type",
                        "Base.1.8.ActionParameterNotSupported",
                        &format!("ResetType {kind} is not supported."),
                    );
                }
            };
            m.resets.push(kind.clone());
            if kind == "PowerCycle" {
                m.power = "Off";
            }
            let id = m.next_task;
            m.next_task += 1;
            let polls = m.task_polls;
            m.pending.insert(id, (polls, after));
            let monitor = format!("/redfish/v1/TaskService/TaskMonitors/{id}");
            (
                StatusCode::ACCEPTED,
                [("location", monitor.clone()), ("retry-after", "1".into())],
                axum::Json(json!({"@odata.id": monitor, "TaskState": "Running"})),
            )
                .into_response()
        }
        (&Method::GET, p) if p.starts_with("/redfish/v1/TaskService/TaskMonitors/") => {
            let id: u32 = p.rsplit('/').next().unwrap().parse().unwrap_or(0);
            let Some((left, after)) = m.pending.get(&id).copied() else {
                return error(
                    StatusCode::NOT_FOUND,
                    "No task",
                    "Base.1.8.ResourceMissingAtURI",
                    p,
                );
            };
            if left > 0 {
                m.pending.insert(id, (left - 1, after));
                return (
                    StatusCode::ACCEPTED,
                    [("retry-after", "1")],
                    axum::Json(json!({"TaskState": "Running"})),
                )
                    .into_response();
            }
            m.pending.remove(&id);
            if m.fail_tasks {
                return ok(json!({"TaskState": "Exception", "TaskStatus": "Critical",
                    "Messages": [{"MessageId": "Test.1.0.PowerFault",
                                  "Message": "Power supply 2 reports a fault."}]}));
            }
            m.power = after;
            ok(json!({"TaskState": "Completed", "TaskStatus": "OK"}))
        }
        (&Method::GET, "/redfish/v1/Managers/bmc") => ok(json!({
            "Id": "bmc", "FirmwareVersion": "9.9.9", "Model": "TestBMC",
        })),
        (&Method::GET, p) if p == format!("{SYSTEM}/EthernetInterfaces") => ok(json!({
            "Members": [{"@odata.id": format!("{SYSTEM}/EthernetInterfaces/1")},
                        {"@odata.id": format!("{SYSTEM}/EthernetInterfaces/2")}],
        })),
        (&Method::GET, p) if p.starts_with(&format!("{SYSTEM}/EthernetInterfaces/")) => {
            let n = p.rsplit('/').next().unwrap();
            ok(json!({"Id": n, "MACAddress": format!("AA:BB:CC:00:00:0{n}")}))
        }
        _ => error(
            StatusCode::NOT_FOUND,
            "Not found",
            "Base.1.8.ResourceMissingAtURI",
            &format!("{method} {path}"),
        ),
    }
}

fn rand_suffix(id: u32) -> String {
    format!("{:08x}", id.wrapping_mul(2_654_435_761))
}
