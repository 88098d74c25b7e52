//! Handlers: interfaces, fabrics, VLANs, subnets, IP ranges, static routes, domains.

use serde_json::{Value, json};

use super::h_machines::{machine, machine_mut};
use super::reply::{Form, R, Reply, id, not_found, ok, text};
use super::world::{API, IfaceRec, LinkRec, SubnetRec, VlanRec, World};
use crate::MachineStatus as S;

fn editable(w: &World, sid: &str, what: &str) -> Result<(), Reply> {
    let m = machine(w, sid)?;
    if matches!(
        m.status,
        S::New | S::Ready | S::FailedTesting | S::Allocated | S::Broken
    ) {
        Ok(())
    } else {
        Err(text(
            409,
            format!(
                "Cannot {what} interface because the machine is not New, Ready, Allocated, or Broken."
            ),
        ))
    }
}

fn iface_index(w: &World, sid: &str, cap: &str) -> Result<usize, Reply> {
    let iid = id(cap, "Interface")?;
    machine(w, sid)?
        .interfaces
        .iter()
        .position(|i| i.id == iid)
        .ok_or_else(|| not_found("Interface"))
}

fn render_iface(w: &World, sid: &str, idx: usize) -> R {
    let m = machine(w, sid)?;
    ok(w.render_interface(m, &m.interfaces[idx], false))
}

pub(crate) fn interfaces(w: &World, sid: &str) -> R {
    // MAAS looks the system id up among all nodes: a rack controller's interfaces too.
    if let Some(rack) = w.rack(sid) {
        return ok(rack["interface_set"].clone());
    }
    let m = machine(w, sid)?;
    ok(Value::Array(
        m.interfaces
            .iter()
            .map(|i| w.render_interface(m, i, false))
            .collect(),
    ))
}

pub(crate) fn interface(w: &World, sid: &str, cap: &str) -> R {
    let idx = iface_index(w, sid, cap)?;
    render_iface(w, sid, idx)
}

fn vlan_param(w: &World, f: &Form, key: &str) -> Result<Option<i64>, Reply> {
    match f.int(key)? {
        None => Ok(None),
        Some(v) if w.vlans.contains_key(&v) => Ok(Some(v)),
        Some(v) => Err(Reply::Json(
            400,
            json!({key: [format!("Select a valid choice. {v} is not one of the available choices.")]}),
        )),
    }
}

pub(crate) fn update_interface(w: &mut World, sid: &str, cap: &str, f: &Form) -> R {
    editable(w, sid, "update")?;
    let idx = iface_index(w, sid, cap)?;
    let vlan = vlan_param(w, f, "vlan")?;
    let mtu = f.int("mtu")?;
    let i = &mut machine_mut(w, sid)?.interfaces[idx];
    if let Some(n) = f.get("name") {
        i.name = n.to_owned();
    }
    if let Some(mac) = f.get("mac_address") {
        i.mac = mac.to_owned();
    }
    if vlan.is_some() {
        i.vlan = vlan;
    }
    if let Some(mtu) = mtu {
        i.mtu = Some(mtu as u32);
    }
    render_iface(w, sid, idx)
}

pub(crate) fn disconnect(w: &mut World, sid: &str, cap: &str) -> R {
    editable(w, sid, "disconnect")?;
    let idx = iface_index(w, sid, cap)?;
    let i = &mut machine_mut(w, sid)?.interfaces[idx];
    i.vlan = None;
    i.links.clear();
    render_iface(w, sid, idx)
}

pub(crate) fn link_subnet(w: &mut World, sid: &str, cap: &str, f: &Form) -> R {
    editable(w, sid, "link")?;
    let idx = iface_index(w, sid, cap)?;
    let mode = f.required("mode")?.to_ascii_lowercase();
    if !matches!(mode.as_str(), "auto" | "dhcp" | "static" | "link_up") {
        return Err(Reply::Json(
            400,
            json!({"mode": [format!("Select a valid choice. {mode} is not one of the available choices.")]}),
        ));
    }
    let subnet = f.int("subnet")?;
    if mode != "link_up" && subnet.is_none() {
        return Err(Reply::Json(
            400,
            json!({"subnet": ["This field is required."]}),
        ));
    }
    if let Some(s) = subnet
        && !w.subnets.contains_key(&s)
    {
        return Err(Reply::Json(
            400,
            json!({"subnet": [format!("Select a valid choice. {s} is not one of the available choices.")]}),
        ));
    }
    if f.bool("default_gateway") == Some(true) && !matches!(mode.as_str(), "auto" | "static") {
        return Err(Reply::Json(
            400,
            json!({"default_gateway": [format!("Cannot use in mode '{mode}'.")]}),
        ));
    }
    let ip = match mode.as_str() {
        "static" => Some(
            f.get("ip_address")
                .map(str::to_owned)
                .unwrap_or_else(|| "10.0.0.100".into()),
        ),
        _ => None,
    };
    let lid = w.id();
    let vlan = subnet.and_then(|s| w.subnets.get(&s)).map(|s| s.vlan);
    let i = &mut machine_mut(w, sid)?.interfaces[idx];
    i.links
        .retain(|l| l.mode != "link_up" || l.subnet.is_some());
    i.links.push(LinkRec {
        id: lid,
        mode,
        subnet,
        ip,
    });
    if vlan.is_some() {
        i.vlan = vlan;
    }
    render_iface(w, sid, idx)
}

pub(crate) fn unlink_subnet(w: &mut World, sid: &str, cap: &str, f: &Form) -> R {
    editable(w, sid, "unlink")?;
    let idx = iface_index(w, sid, cap)?;
    let lid = f.int("id")?.unwrap_or(-1);
    let i = &mut machine_mut(w, sid)?.interfaces[idx];
    let before = i.links.len();
    i.links.retain(|l| l.id != lid);
    if before == i.links.len() {
        return Err(Reply::Json(
            400,
            json!({"id": [format!("Select a valid choice. {lid} is not one of the available choices.")]}),
        ));
    }
    render_iface(w, sid, idx)
}

pub(crate) fn create_vlan_iface(w: &mut World, sid: &str, f: &Form) -> R {
    editable(w, sid, "create")?;
    let vlan = vlan_param(w, f, "vlan")?
        .ok_or_else(|| Reply::Json(400, json!({"vlan": ["This field is required."]})))?;
    let parent = f
        .int("parent")?
        .ok_or_else(|| Reply::Json(400, json!({"parent": ["This field is required."]})))?;
    let vid = w.vlans[&vlan].vid;
    let iid = w.id();
    let m = machine_mut(w, sid)?;
    let p = m
        .interfaces
        .iter()
        .find(|i| i.id == parent)
        .ok_or_else(|| Reply::Json(400, json!({"parent": ["Select a valid choice."]})))?;
    let iface = IfaceRec {
        id: iid,
        name: format!("{}.{vid}", p.name),
        kind: "vlan",
        mac: p.mac.clone(),
        vlan: Some(vlan),
        parents: vec![p.name.clone()],
        links: vec![],
        mtu: f.int("mtu")?.map(|v| v as u32),
        tags: split_tags(f),
        params: json!({}),
    };
    m.interfaces.push(iface);
    let idx = m.interfaces.len() - 1;
    render_iface(w, sid, idx)
}

fn split_tags(f: &Form) -> Vec<String> {
    f.get("tags")
        .map(|t| {
            t.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn create_bond(w: &mut World, sid: &str, f: &Form) -> R {
    editable(w, sid, "create")?;
    let name = f.required("name")?.to_owned();
    let parents: Vec<i64> = f
        .all("parents")
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect();
    if parents.is_empty() {
        return Err(Reply::Json(
            400,
            json!({"parents": ["A bond interface must have one or more parents."]}),
        ));
    }
    let iid = w.id();
    let mtu = f.int("mtu")?.map(|v| v as u32);
    let m = machine_mut(w, sid)?;
    let mut names = Vec::new();
    for p in &parents {
        let i = m.interfaces.iter().find(|i| i.id == *p).ok_or_else(|| Reply::Json(400, json!({"parents": [format!("Select a valid choice. {p} is not one of the available choices.")]})))?;
        names.push(i.name.clone());
    }
    let first = m
        .interfaces
        .iter()
        .find(|i| i.id == parents[0])
        .map(|i| (i.mac.clone(), i.vlan))
        .unwrap_or_default();
    let mut params = serde_json::Map::new();
    for k in [
        "bond_mode",
        "bond_miimon",
        "bond_downdelay",
        "bond_updelay",
        "bond_lacp_rate",
        "bond_xmit_hash_policy",
    ] {
        if let Some(v) = f.get(k) {
            params.insert(
                k.into(),
                v.parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| json!(v)),
            );
        }
    }
    m.interfaces.push(IfaceRec {
        id: iid,
        name,
        kind: "bond",
        mac: f.get("mac_address").map(str::to_owned).unwrap_or(first.0),
        vlan: first.1,
        parents: names,
        links: vec![],
        mtu,
        tags: split_tags(f),
        params: Value::Object(params),
    });
    let idx = m.interfaces.len() - 1;
    render_iface(w, sid, idx)
}

// ---- fabrics and VLANs -------------------------------------------------------------------------

fn fabric_id(w: &World, cap: &str) -> Result<i64, Reply> {
    let fid = id(cap, "Fabric")?;
    w.fabrics
        .contains_key(&fid)
        .then_some(fid)
        .ok_or_else(|| not_found("Fabric"))
}

pub(crate) fn fabrics(w: &World) -> R {
    ok(Value::Array(
        w.fabrics.keys().map(|f| w.render_fabric(*f)).collect(),
    ))
}

pub(crate) fn fabric(w: &World, cap: &str) -> R {
    ok(w.render_fabric(fabric_id(w, cap)?))
}

pub(crate) fn create_fabric(w: &mut World, f: &Form) -> R {
    let name = f
        .get("name")
        .map(str::to_owned)
        .unwrap_or_else(|| format!("fabric-{}", w.next_fabric));
    if w.fabrics.values().any(|(n, _)| *n == name) {
        return Err(Reply::Json(
            400,
            json!({"name": ["Fabric with this Name already exists."]}),
        ));
    }
    let fid = w.create_fabric(&name, f.get("description").map(str::to_owned));
    ok(w.render_fabric(fid))
}

pub(crate) fn update_fabric(w: &mut World, cap: &str, f: &Form) -> R {
    let fid = fabric_id(w, cap)?;
    let entry = w.fabrics.get_mut(&fid).ok_or_else(|| not_found("Fabric"))?;
    if let Some(n) = f.get("name") {
        entry.0 = n.to_owned();
    }
    if let Some(d) = f.get("description") {
        entry.1 = Some(d.to_owned());
    }
    ok(w.render_fabric(fid))
}

pub(crate) fn delete_fabric(w: &mut World, cap: &str) -> R {
    let fid = fabric_id(w, cap)?;
    if fid == 0 {
        return Err(text(400, "Cannot delete the default fabric."));
    }
    w.fabrics.remove(&fid);
    w.vlans.retain(|_, v| v.fabric != fid);
    Ok(Reply::Empty)
}

pub(crate) fn vlans(w: &World, cap: &str) -> R {
    let fid = fabric_id(w, cap)?;
    ok(Value::Array(
        w.vlans
            .values()
            .filter(|v| v.fabric == fid)
            .map(|v| w.render_vlan(v.id))
            .collect(),
    ))
}

fn vlan_id(w: &World, fcap: &str, vcap: &str) -> Result<i64, Reply> {
    let fid = fabric_id(w, fcap)?;
    let vid: u16 = vcap.parse().map_err(|_| not_found("VLAN"))?;
    w.vlan_by_vid(fid, vid).ok_or_else(|| not_found("VLAN"))
}

pub(crate) fn vlan(w: &World, fcap: &str, vcap: &str) -> R {
    ok(w.render_vlan(vlan_id(w, fcap, vcap)?))
}

pub(crate) fn create_vlan(w: &mut World, fcap: &str, f: &Form) -> R {
    let fid = fabric_id(w, fcap)?;
    let vid = f
        .int("vid")?
        .ok_or_else(|| Reply::Json(400, json!({"vid": ["This field is required."]})))?;
    if !(1..=4094).contains(&vid) {
        return Err(Reply::Json(
            400,
            json!({"vid": ["VID must be between 0 and 4094."]}),
        ));
    }
    if w.vlan_by_vid(fid, vid as u16).is_some() {
        return Err(Reply::Json(
            400,
            json!({"__all__": ["VLAN with this Vid and Fabric already exists."]}),
        ));
    }
    let vlan_id = 5000 + w.id();
    w.vlans.insert(
        vlan_id,
        VlanRec {
            id: vlan_id,
            fabric: fid,
            vid: vid as u16,
            name: f
                .get("name")
                .map(str::to_owned)
                .unwrap_or_else(|| vid.to_string()),
            mtu: f.int("mtu")?.unwrap_or(1500) as u32,
            dhcp_on: false,
            primary_rack: None,
            secondary_rack: None,
            relay_vlan: None,
        },
    );
    ok(w.render_vlan(vlan_id))
}

pub(crate) fn update_vlan(w: &mut World, fcap: &str, vcap: &str, f: &Form) -> R {
    let vid = vlan_id(w, fcap, vcap)?;
    let mtu = f.int("mtu")?;
    let relay = f.int("relay_vlan")?;
    let dhcp_on = f.bool("dhcp_on");
    let primary = f.get("primary_rack").map(str::to_owned);
    let has_dynamic = w.subnets.values().filter(|s| s.vlan == vid).any(|s| {
        w.ipranges
            .values()
            .any(|r| r["type"] == "dynamic" && r["subnet"]["id"] == s.id)
    });
    let v = w.vlans.get_mut(&vid).ok_or_else(|| not_found("VLAN"))?;
    if let Some(n) = f.get("name") {
        v.name = n.to_owned();
    }
    if let Some(m) = mtu {
        v.mtu = m as u32;
    }
    if let Some(p) = primary {
        v.primary_rack = (!p.is_empty()).then_some(p);
    }
    if let Some(s) = f.get("secondary_rack") {
        v.secondary_rack = (!s.is_empty()).then(|| s.to_owned());
    }
    if relay.is_some() {
        v.relay_vlan = relay;
    }
    if dhcp_on == Some(true) {
        if v.primary_rack.is_none() {
            return Err(Reply::Json(
                400,
                json!({"__all__": ["dhcp can only be turned on when a primary rack controller is set."]}),
            ));
        }
        if !has_dynamic {
            return Err(Reply::Json(
                400,
                json!({"dhcp_on": ["dhcp can only be turned on when a dynamic IP range is defined."]}),
            ));
        }
    }
    if let Some(d) = dhcp_on {
        v.dhcp_on = d;
    }
    ok(w.render_vlan(vid))
}

pub(crate) fn delete_vlan(w: &mut World, fcap: &str, vcap: &str) -> R {
    let vid = vlan_id(w, fcap, vcap)?;
    if w.vlans[&vid].vid == 0 {
        return Err(text(400, "Cannot delete the default VLAN of a fabric."));
    }
    w.vlans.remove(&vid);
    Ok(Reply::Empty)
}

// ---- subnets, ranges, routes, domains -----------------------------------------------------

pub(crate) fn subnets(w: &World) -> R {
    ok(Value::Array(
        w.subnets.keys().map(|s| w.render_subnet(*s)).collect(),
    ))
}

fn subnet_id(w: &World, cap: &str) -> Result<i64, Reply> {
    let sid = id(cap, "Subnet")?;
    w.subnets
        .contains_key(&sid)
        .then_some(sid)
        .ok_or_else(|| not_found("Subnet"))
}

pub(crate) fn subnet(w: &World, cap: &str) -> R {
    ok(w.render_subnet(subnet_id(w, cap)?))
}

fn apply_subnet(w: &World, s: &mut SubnetRec, f: &Form) -> Result<(), Reply> {
    if let Some(v) = vlan_param(w, f, "vlan")? {
        s.vlan = v;
    } else if let (Some(fid), vid) = (f.int("fabric")?, f.int("vid")?) {
        s.vlan = w.vlan_by_vid(fid, vid.unwrap_or(0) as u16).ok_or_else(|| {
            Reply::Json(
                400,
                json!({"vid": ["No VLAN with this vid on the fabric."]}),
            )
        })?;
    }
    if let Some(c) = f.get("cidr") {
        if c.split_once('/')
            .is_none_or(|(a, p)| a.parse::<std::net::IpAddr>().is_err() || p.parse::<u8>().is_err())
        {
            return Err(Reply::Json(
                400,
                json!({"cidr": ["Required format: <network>/<prefixlen>."]}),
            ));
        }
        s.cidr = c.to_owned();
    }
    for (k, slot) in [("name", &mut s.name), ("description", &mut s.description)] {
        if let Some(v) = f.get(k) {
            *slot = v.to_owned();
        }
    }
    if let Some(g) = f.get("gateway_ip") {
        s.gateway_ip = (!g.is_empty()).then(|| g.to_owned());
    }
    if f.get("dns_servers").is_some() {
        s.dns_servers = f
            .all("dns_servers")
            .iter()
            .flat_map(|v| v.split([',', ' ']))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect();
    }
    if let Some(r) = f.int("rdns_mode")? {
        s.rdns_mode = r;
    }
    if let Some(p) = f.bool("allow_proxy") {
        s.allow_proxy = p;
    }
    Ok(())
}

pub(crate) fn create_subnet(w: &mut World, f: &Form) -> R {
    f.required("cidr")?;
    let sid = w.id();
    let vlan = w.untagged_vlan(0).unwrap_or_default();
    let mut s = SubnetRec {
        id: sid,
        name: String::new(),
        description: String::new(),
        cidr: String::new(),
        vlan,
        gateway_ip: None,
        dns_servers: vec![],
        rdns_mode: 2,
        allow_proxy: true,
    };
    apply_subnet(w, &mut s, f)?;
    if w.subnets.values().any(|x| x.cidr == s.cidr) {
        return Err(Reply::Json(
            400,
            json!({"cidr": ["Subnet with this Cidr already exists."]}),
        ));
    }
    if s.name.is_empty() {
        s.name = s.cidr.clone();
    }
    w.subnets.insert(sid, s);
    ok(w.render_subnet(sid))
}

pub(crate) fn update_subnet(w: &mut World, cap: &str, f: &Form) -> R {
    let sid = subnet_id(w, cap)?;
    let mut s = w.subnets[&sid].clone();
    apply_subnet(w, &mut s, f)?;
    w.subnets.insert(sid, s);
    ok(w.render_subnet(sid))
}

pub(crate) fn delete_subnet(w: &mut World, cap: &str) -> R {
    let sid = subnet_id(w, cap)?;
    w.subnets.remove(&sid);
    Ok(Reply::Empty)
}

pub(crate) fn ipranges(w: &World) -> R {
    ok(Value::Array(w.ipranges.values().cloned().collect()))
}

pub(crate) fn iprange(w: &World, cap: &str) -> R {
    w.ipranges
        .get(&id(cap, "IPRange")?)
        .cloned()
        .map(|v| Reply::Json(200, v))
        .ok_or_else(|| not_found("IPRange"))
}

pub(crate) fn create_iprange(w: &mut World, f: &Form) -> R {
    let kind = f.required("type")?.to_owned();
    if !matches!(kind.as_str(), "dynamic" | "reserved") {
        return Err(Reply::Json(
            400,
            json!({"type": [format!("Select a valid choice. {kind} is not one of the available choices.")]}),
        ));
    }
    let start = f.required("start_ip")?.to_owned();
    let end = f.required("end_ip")?.to_owned();
    let subnet = f
        .int("subnet")?
        .ok_or_else(|| Reply::Json(400, json!({"subnet": ["This field is required."]})))?;
    subnet_id(w, &subnet.to_string())
        .map_err(|_| Reply::Json(400, json!({"subnet": ["Select a valid choice."]})))?;
    let rid = w.id();
    let v = json!({"id": rid, "type": kind, "start_ip": start, "end_ip": end,
        "comment": f.get("comment").unwrap_or(""), "user": {"username": "admin", "email": "", "is_superuser": true},
        "subnet": w.render_subnet(subnet), "resource_uri": format!("{API}ipranges/{rid}/")});
    w.ipranges.insert(rid, v.clone());
    ok(v)
}

pub(crate) fn delete_iprange(w: &mut World, cap: &str) -> R {
    w.ipranges
        .remove(&id(cap, "IPRange")?)
        .ok_or_else(|| not_found("IPRange"))?;
    Ok(Reply::Empty)
}

fn render_route(w: &World, rid: i64) -> Value {
    let (src, dst, gw, metric) = w.routes[&rid].clone();
    json!({"id": rid, "source": w.render_subnet(src), "destination": w.render_subnet(dst),
        "gateway_ip": gw, "metric": metric, "resource_uri": format!("{API}static-routes/{rid}/")})
}

pub(crate) fn static_routes(w: &World) -> R {
    ok(Value::Array(
        w.routes.keys().map(|r| render_route(w, *r)).collect(),
    ))
}

pub(crate) fn static_route(w: &World, cap: &str) -> R {
    let rid = id(cap, "StaticRoute")?;
    w.routes
        .contains_key(&rid)
        .then(|| Reply::Json(200, render_route(w, rid)))
        .ok_or_else(|| not_found("StaticRoute"))
}

pub(crate) fn create_static_route(w: &mut World, f: &Form) -> R {
    let src = subnet_id(w, f.required("source")?)
        .map_err(|_| Reply::Json(400, json!({"source": ["Select a valid choice."]})))?;
    let dst = subnet_id(w, f.required("destination")?)
        .map_err(|_| Reply::Json(400, json!({"destination": ["Select a valid choice."]})))?;
    let gw = f.required("gateway_ip")?.to_owned();
    let metric = f.int("metric")?.unwrap_or(0);
    if w.routes.values().any(|(s, d, _, _)| *s == src && *d == dst) {
        return Err(Reply::Json(
            400,
            json!({"__all__": ["Static route with this Source and Destination already exists."]}),
        ));
    }
    let rid = w.id();
    w.routes.insert(rid, (src, dst, gw, metric));
    ok(render_route(w, rid))
}

pub(crate) fn delete_static_route(w: &mut World, cap: &str) -> R {
    w.routes
        .remove(&id(cap, "StaticRoute")?)
        .ok_or_else(|| not_found("StaticRoute"))?;
    Ok(Reply::Empty)
}

pub(crate) fn domains(w: &World) -> R {
    ok(Value::Array(
        w.domains.keys().map(|d| w.render_domain(*d)).collect(),
    ))
}

pub(crate) fn create_domain(w: &mut World, f: &Form) -> R {
    let name = f.required("name")?.to_owned();
    if w.domains.values().any(|(n, _)| *n == name) {
        return Err(Reply::Json(
            400,
            json!({"name": ["Domain with this Name already exists."]}),
        ));
    }
    let did = w.id();
    w.domains
        .insert(did, (name, f.bool("authoritative").unwrap_or(true)));
    ok(w.render_domain(did))
}
