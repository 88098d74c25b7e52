//! The few Redfish resources the driver reads, parsed leniently from JSON.
//!
//! Every parser takes any [`serde_json::Value`] and never panics: a property of the wrong type
//! counts as absent, and only what the driver cannot do without (a collection's members, a
//! system's reset action when resetting) is an error, reported where it is needed.

use serde_json::Value;

/// At most this many members are read from a collection.
pub const MAX_MEMBERS: usize = 1024;

/// The string at `path` in `v`, if it is a string.
pub fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path)?.as_str()
}

/// The value at `path` in `v`.
pub fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, key| v.as_object()?.get(*key))
}

/// The `@odata.id` of the link at `path` in `v`.
pub fn link(v: &Value, path: &[&str]) -> Option<String> {
    text(at(v, path)?, &["@odata.id"])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The strings of the array at `path` (non-strings skipped), or `None` when there is no array.
pub fn strings(v: &Value, path: &[&str]) -> Option<Vec<String>> {
    let items = at(v, path)?.as_array()?;
    Some(
        items
            .iter()
            .take(MAX_MEMBERS)
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
    )
}

/// The `@odata.id`s of the array of links at `path` (bounded by [`MAX_MEMBERS`]).
pub fn links(v: &Value, path: &[&str]) -> Vec<String> {
    at(v, path)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .take(MAX_MEMBERS)
                .filter_map(|i| text(i, &["@odata.id"]).map(str::to_owned))
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// A value at `path` printed for people: strings as they are, numbers and booleans as JSON.
pub fn scalar(v: &Value, path: &[&str]) -> Option<String> {
    match at(v, path)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The service root: where the systems, managers and sessions are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceRoot {
    /// The systems collection.
    pub systems: Option<String>,
    /// The managers collection.
    pub managers: Option<String>,
    /// The sessions collection (`Links.Sessions`).
    pub sessions: Option<String>,
    /// The session service, to find the sessions collection when `Links` lacks it.
    pub session_service: Option<String>,
    /// `RedfishVersion`.
    pub version: Option<String>,
}

impl ServiceRoot {
    /// Reads a service root.
    pub fn parse(v: &Value) -> ServiceRoot {
        ServiceRoot {
            systems: link(v, &["Systems"]),
            managers: link(v, &["Managers"]),
            sessions: link(v, &["Links", "Sessions"]),
            session_service: link(v, &["SessionService"]),
            version: scalar(v, &["RedfishVersion"]),
        }
    }
}

/// A system's `PowerState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RfPower {
    /// `On`.
    On,
    /// `Off`.
    Off,
    /// `PoweringOn`.
    PoweringOn,
    /// `PoweringOff`.
    PoweringOff,
    /// `Paused`.
    Paused,
}

impl RfPower {
    /// Reads a `PowerState` value.
    pub fn parse(s: &str) -> Option<RfPower> {
        Some(match s {
            "On" => RfPower::On,
            "Off" => RfPower::Off,
            "PoweringOn" => RfPower::PoweringOn,
            "PoweringOff" => RfPower::PoweringOff,
            "Paused" => RfPower::Paused,
            _ => return None,
        })
    }
}

/// The parts of a `ComputerSystem` the driver uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct System {
    /// `PowerState`, when readable.
    pub power: Option<RfPower>,
    /// `PowerState` as written, for messages.
    pub power_text: Option<String>,
    /// `Boot.BootSourceOverrideTarget`.
    pub boot_target: Option<String>,
    /// `Boot.BootSourceOverrideEnabled`.
    pub boot_enabled: Option<String>,
    /// `Boot.BootSourceOverrideMode`.
    pub boot_mode: Option<String>,
    /// `Boot.BootSourceOverrideTarget@Redfish.AllowableValues`.
    pub boot_targets_allowed: Option<Vec<String>>,
    /// The `#ComputerSystem.Reset` action's target.
    pub reset_target: Option<String>,
    /// Its `ResetType@Redfish.AllowableValues`.
    pub reset_allowed: Option<Vec<String>>,
    /// Its `@Redfish.ActionInfo`, where the allowed values are when not inline.
    pub reset_action_info: Option<String>,
    /// `Links.ManagedBy`.
    pub managers: Vec<String>,
    /// `@odata.etag` of the body.
    pub etag: Option<String>,
}

impl System {
    /// Reads a `ComputerSystem`.
    pub fn parse(v: &Value) -> System {
        let power_text = text(v, &["PowerState"]).map(str::to_owned);
        let reset = at(v, &["Actions", "#ComputerSystem.Reset"]);
        System {
            power: power_text.as_deref().and_then(RfPower::parse),
            power_text,
            boot_target: text(v, &["Boot", "BootSourceOverrideTarget"]).map(str::to_owned),
            boot_enabled: text(v, &["Boot", "BootSourceOverrideEnabled"]).map(str::to_owned),
            boot_mode: text(v, &["Boot", "BootSourceOverrideMode"]).map(str::to_owned),
            boot_targets_allowed: strings(
                v,
                &["Boot", "BootSourceOverrideTarget@Redfish.AllowableValues"],
            ),
            reset_target: reset.and_then(|r| text(r, &["target"])).map(str::to_owned),
            reset_allowed: reset.and_then(|r| strings(r, &["ResetType@Redfish.AllowableValues"])),
            reset_action_info: reset
                .and_then(|r| text(r, &["@Redfish.ActionInfo"]))
                .map(str::to_owned),
            managers: links(v, &["Links", "ManagedBy"]),
            etag: text(v, &["@odata.etag"]).map(str::to_owned),
        }
    }
}

/// The `AllowableValues` of the parameter `name` in an `ActionInfo` resource.
pub fn action_info_allowed(v: &Value, name: &str) -> Option<Vec<String>> {
    at(v, &["Parameters"])?
        .as_array()?
        .iter()
        .take(MAX_MEMBERS)
        .find(|p| text(p, &["Name"]) == Some(name))
        .and_then(|p| strings(p, &["AllowableValues"]))
}

/// Whether a task is still running, or how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskProgress {
    /// Not finished.
    Running,
    /// Finished well.
    Completed,
    /// Finished badly: the final `TaskState` and the messages.
    Failed(String, String),
    /// Not a task resource (the operation's own answer).
    NotATask,
}

/// Reads a task (or a task monitor's answer).
pub fn task_progress(v: &Value) -> TaskProgress {
    let Some(state) = text(v, &["TaskState"]) else {
        return TaskProgress::NotATask;
    };
    match state {
        "Completed" => {
            if text(v, &["TaskStatus"]).is_some_and(|s| s == "Critical") {
                TaskProgress::Failed(state.to_owned(), messages(v, &["Messages"]))
            } else {
                TaskProgress::Completed
            }
        }
        "Exception" | "Killed" | "Cancelled" => {
            TaskProgress::Failed(state.to_owned(), messages(v, &["Messages"]))
        }
        _ => TaskProgress::Running,
    }
}

/// The `Message` texts (with their `MessageId`s) of the message array at `path`, joined.
pub fn messages(v: &Value, path: &[&str]) -> String {
    let Some(items) = at(v, path).and_then(Value::as_array) else {
        return String::new();
    };
    items
        .iter()
        .take(16)
        .filter_map(|m| {
            let text_ = scalar(m, &["Message"]);
            let id = scalar(m, &["MessageId"]);
            match (id, text_) {
                (Some(id), Some(t)) => Some(format!("{t} [{id}]")),
                (None, Some(t)) => Some(t),
                (Some(id), None) => Some(id),
                (None, None) => None,
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The message of a Redfish error body: `error.message` and every
/// `error.@Message.ExtendedInfo` message.
pub fn error_message(v: &Value) -> Option<String> {
    let main = scalar(v, &["error", "message"]).or_else(|| scalar(v, &["error", "code"]));
    let extended = messages(v, &["error", "@Message.ExtendedInfo"]);
    match (main, extended.is_empty()) {
        (Some(m), false) => Some(format!("{m} ({extended})")),
        (Some(m), true) => Some(m),
        (None, false) => Some(extended),
        (None, true) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn system_parses_what_it_finds_and_skips_the_rest() {
        let s = System::parse(&json!({
            "PowerState": "PoweringOn",
            "Boot": {"BootSourceOverrideTarget": 3,
                     "BootSourceOverrideTarget@Redfish.AllowableValues": ["Pxe", 7, "Hdd"]},
            "Actions": {"#ComputerSystem.Reset": {"target": "/r"}},
            "Links": {"ManagedBy": [{"@odata.id": "/m"}, {"x": 1}, 5]},
        }));
        assert_eq!(s.power, Some(RfPower::PoweringOn));
        assert_eq!(s.boot_target, None);
        assert_eq!(
            s.boot_targets_allowed,
            Some(vec!["Pxe".into(), "Hdd".into()])
        );
        assert_eq!(s.reset_target.as_deref(), Some("/r"));
        assert_eq!(s.reset_allowed, None);
        assert_eq!(s.managers, vec!["/m".to_owned()]);
        assert_eq!(System::parse(&json!([1, 2])), System::default());
    }

    #[test]
    fn error_bodies_keep_their_extended_info() {
        let body = json!({"error": {"code": "Base.1.8.GeneralError", "message": "A general error",
            "@Message.ExtendedInfo": [
                {"MessageId": "Base.1.8.PropertyValueNotInList", "Message": "Bad value Foo"}]}});
        assert_eq!(
            error_message(&body).unwrap(),
            "A general error (Bad value Foo [Base.1.8.PropertyValueNotInList])"
        );
        assert_eq!(error_message(&json!("x")), None);
    }

    #[test]
    fn tasks_end_or_run() {
        assert_eq!(
            task_progress(&json!({"TaskState": "Running"})),
            TaskProgress::Running
        );
        assert_eq!(
            task_progress(&json!({"TaskState": "Completed"})),
            TaskProgress::Completed
        );
        assert!(matches!(
            task_progress(&json!({"TaskState": "Exception", "Messages": [{"Message": "boom"}]})),
            TaskProgress::Failed(s, m) if s == "Exception" && m == "boom"
        ));
        assert_eq!(task_progress(&json!({})), TaskProgress::NotATask);
    }
}
