//! Handlers: tags, SSH keys, package repositories, boot resources, rack controllers.

use serde_json::{Value, json};

use super::reply::{Form, R, Reply, id, not_found, ok};
use super::world::{API, World};

fn render_tag(name: &str, v: &Value) -> Value {
    let mut v = v.clone();
    v["name"] = json!(name);
    v["resource_uri"] = json!(format!("{API}tags/{name}/"));
    v
}

pub(crate) fn tags(w: &World) -> R {
    ok(Value::Array(
        w.tags.iter().map(|(n, v)| render_tag(n, v)).collect(),
    ))
}

pub(crate) fn tag(w: &World, name: &str) -> R {
    w.tags
        .get(name)
        .map(|v| Reply::Json(200, render_tag(name, v)))
        .ok_or_else(|| not_found("Tag"))
}

pub(crate) fn create_tag(w: &mut World, f: &Form) -> R {
    let name = f.required("name")?.to_owned();
    if w.tags.contains_key(&name) {
        return Err(Reply::Json(
            400,
            json!({"name": ["Tag with this Name already exists."]}),
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Reply::Json(
            400,
            json!({"name": ["Invalid character in tag name."]}),
        ));
    }
    let v = json!({"definition": f.get("definition").unwrap_or(""), "comment": f.get("comment").unwrap_or(""),
        "kernel_opts": f.get("kernel_opts").unwrap_or("")});
    w.tags.insert(name.clone(), v.clone());
    ok(render_tag(&name, &v))
}

pub(crate) fn delete_tag(w: &mut World, name: &str) -> R {
    w.tags.remove(name).ok_or_else(|| not_found("Tag"))?;
    w.tagged.remove(name);
    Ok(Reply::Empty)
}

pub(crate) fn tag_nodes(w: &World, name: &str) -> R {
    if !w.tags.contains_key(name) {
        return Err(not_found("Tag"));
    }
    let sids = w.tagged.get(name).cloned().unwrap_or_default();
    ok(Value::Array(
        sids.iter()
            .filter_map(|s| w.machines.get(s))
            .map(|m| w.render_machine(m))
            .collect(),
    ))
}

pub(crate) fn update_tag_nodes(w: &mut World, name: &str, f: &Form) -> R {
    let tag = w.tags.get(name).ok_or_else(|| not_found("Tag"))?;
    if let Some(d) = f.get("definition")
        && tag["definition"] != d
    {
        return Err(Reply::Text(
            409,
            format!(
                "Definition supplied '{d}' doesn't match current definition '{}'",
                tag["definition"].as_str().unwrap_or("")
            ),
        ));
    }
    let add: Vec<String> = f
        .all("add")
        .into_iter()
        .filter(|s| w.machines.contains_key(*s))
        .map(str::to_owned)
        .collect();
    let remove: Vec<&str> = f.all("remove");
    let list = w.tagged.entry(name.to_owned()).or_default();
    let mut added = 0;
    for s in add {
        if !list.contains(&s) {
            list.push(s);
            added += 1;
        }
    }
    let before = list.len();
    list.retain(|s| !remove.contains(&s.as_str()));
    ok(json!({"added": added, "removed": before - list.len()}))
}

pub(crate) fn ssh_keys(w: &World) -> R {
    ok(Value::Array(
        w.sshkeys
            .iter()
            .map(|(i, k)| {
                json!({"id": i, "key": k, "keysource": null,
        "resource_uri": format!("{API}account/prefs/sshkeys/{i}/")})
            })
            .collect(),
    ))
}

pub(crate) fn create_ssh_key(w: &mut World, f: &Form) -> R {
    let key = f.required("key")?.trim().to_owned();
    let mut parts = key.split_whitespace();
    let valid = matches!(parts.next(), Some(t) if t.starts_with("ssh-") || t.starts_with("ecdsa-"))
        && parts.next().is_some();
    if !valid {
        return Err(Reply::Json(
            400,
            json!({"key": ["Invalid SSH public key: Key should contain 2 or more space separated parts (key type, base64-encoded key, optional comments), not 1)"]}),
        ));
    }
    if w.sshkeys.values().any(|k| *k == key) {
        return Err(Reply::Json(
            400,
            json!({"__all__": ["This key has already been added for this user."]}),
        ));
    }
    let kid = w.id();
    w.sshkeys.insert(kid, key.clone());
    Ok(Reply::Json(
        201,
        json!({"id": kid, "key": key, "keysource": null,
        "resource_uri": format!("{API}account/prefs/sshkeys/{kid}/")}),
    ))
}

fn csv(f: &Form, key: &str) -> Option<Value> {
    f.get(key).map(|v| {
        json!(
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        )
    })
}

fn apply_repo(v: &mut Value, f: &Form) {
    for k in ["name", "url", "key"] {
        if let Some(x) = f.get(k) {
            v[k] = json!(x);
        }
    }
    for k in [
        "distributions",
        "components",
        "disabled_components",
        "disabled_pockets",
        "arches",
    ] {
        if let Some(x) = csv(f, k) {
            v[k] = x;
        }
    }
    for k in ["enabled", "disable_sources"] {
        if let Some(b) = f.bool(k) {
            v[k] = json!(b);
        }
    }
}

pub(crate) fn repos(w: &World) -> R {
    ok(Value::Array(w.repos.values().cloned().collect()))
}

pub(crate) fn repo(w: &World, cap: &str) -> R {
    w.repos
        .get(&id(cap, "PackageRepository")?)
        .cloned()
        .map(|v| Reply::Json(200, v))
        .ok_or_else(|| not_found("PackageRepository"))
}

pub(crate) fn create_repo(w: &mut World, f: &Form) -> R {
    let name = f.required("name")?.to_owned();
    f.required("url")?;
    if w.repos.values().any(|r| r["name"] == name.as_str()) {
        return Err(Reply::Json(
            400,
            json!({"name": ["Package repository with this Name already exists."]}),
        ));
    }
    let rid = w.id();
    let mut v = json!({"id": rid, "distributions": [], "disabled_pockets": [], "disabled_components": [],
        "disable_sources": true, "components": [], "arches": ["amd64"], "key": "", "enabled": true,
        "resource_uri": format!("{API}package-repositories/{rid}/")});
    apply_repo(&mut v, f);
    w.repos.insert(rid, v.clone());
    ok(v)
}

pub(crate) fn update_repo(w: &mut World, cap: &str, f: &Form) -> R {
    let v = w
        .repos
        .get_mut(&id(cap, "PackageRepository")?)
        .ok_or_else(|| not_found("PackageRepository"))?;
    apply_repo(v, f);
    ok(v.clone())
}

pub(crate) fn delete_repo(w: &mut World, cap: &str) -> R {
    let rid = id(cap, "PackageRepository")?;
    let r = w
        .repos
        .get(&rid)
        .ok_or_else(|| not_found("PackageRepository"))?;
    if matches!(r["name"].as_str(), Some("main_archive" | "ports_archive")) {
        return Err(Reply::Text(
            400,
            "Cannot delete the default package repository.".into(),
        ));
    }
    w.repos.remove(&rid);
    Ok(Reply::Empty)
}

pub(crate) fn boot_resources(w: &World, f: &Form) -> R {
    let kind = f.get("type").map(str::to_ascii_lowercase);
    ok(Value::Array(
        w.boot_resources
            .iter()
            .filter(|r| {
                kind.as_deref().is_none_or(|k| {
                    r["type"]
                        .as_str()
                        .is_some_and(|t| t.eq_ignore_ascii_case(k))
                })
            })
            .cloned()
            .collect(),
    ))
}

pub(crate) fn racks(w: &World) -> R {
    let mut racks = w.racks.clone();
    racks.iter_mut().for_each(super::fields::complete_rack);
    ok(Value::Array(racks))
}

pub(crate) fn rack(w: &World, sid: &str) -> R {
    w.racks
        .iter()
        .find(|r| r["system_id"] == sid)
        .cloned()
        .map(|mut v| {
            super::fields::complete_rack(&mut v);
            Reply::Json(200, v)
        })
        .ok_or_else(|| not_found("RackController"))
}
