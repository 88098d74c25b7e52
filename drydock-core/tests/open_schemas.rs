//! Openness per place, as the reference's JSON schemas define it: an unknown key where the
//! schema is open is kept as pass-through data (an info), where it is closed it is an error; a
//! key close to a modelled one names it. Also several Regions and SR-IOV functions without link.

use drydock_core::design::{
    CompiledDesign, Diagnostic, DiagnosticKind, Severity, compile, ingest_str,
};
use drydock_core::validation::{RuleId, ValidationContext, validate};
use serde_json::json;

/// A design with every kind and a placeholder `{{place}}` at every place of every kind where a
/// key may be added (each on its own line, indented as the keys of that place).
const TEMPLATE: &str = r#"---
schema: drydock/Region/v1
metadata: {name: site, schema: metadata/Document/v1}
data:
  tag_definitions:
    - tag: t
      definition_type: lshw_xpath
      definition: //node
      {{tag_definition}}
  authorized_keys: [ssh-ed25519 AAAA]
  repositories:
    remove_unlisted: false
    ubuntu:
      repo_type: apt
      url: http://archive.example.com/ubuntu
      distributions: [jammy]
      {{repository}}
  {{region}}
---
schema: drydock/Rack/v1
metadata: {name: rack1}
data:
  tor_switches:
    sw1:
      mgmt_ip: 10.0.0.1
      {{tor_switch}}
  location: {clli: XXXX, grid: EG12}
  local_networks: [pxe]
  {{rack}}
---
schema: drydock/NetworkLink/v1
metadata: {name: pxe-link}
data:
  bonding:
    mode: disabled
    {{bonding}}
  mtu: 1500
  trunking:
    mode: disabled
    default_network: pxe
    {{trunking}}
  allowed_networks: [pxe]
  {{link}}
---
schema: drydock/Network/v1
metadata: {name: pxe}
data:
  cidr: 10.0.0.0/24
  dns:
    domain: example.com
    {{dns}}
  ranges:
    - type: static
      start: 10.0.0.10
      end: 10.0.0.100
      {{range}}
  routes:
    - subnet: 0.0.0.0/0
      gateway: 10.0.0.1
      {{route}}
  dhcp_relay:
    self_ip: 10.0.0.2
    {{dhcp_relay}}
  {{network}}
---
schema: drydock/HardwareProfile/v1
metadata: {name: hw}
data:
  vendor: Acme
  device_aliases:
    nic0:
      address: '0000:00:03.0'
      bus_type: pci
      {{device_alias}}
  hugepages:
    dpdk:
      size: 1G
      count: 8
      {{hugepages}}
  {{hardware}}
---
schema: drydock/HostProfile/v1
metadata: {name: base}
data:
  hardware_profile: hw
  oob:
    type: ipmi
    network: pxe
    account: admin
    credential: secret
    {{oob}}
  storage:
    physical_devices:
      sda:
        partitions:
          - name: root
            size: 30g
            filesystem:
              mountpoint: /
              {{partition_fs}}
            {{partition}}
        {{device}}
      sdb:
        volume_group: vg0
    volume_groups:
      vg0:
        logical_volumes:
          - name: lv0
            size: 10g
            filesystem:
              mountpoint: /var
              {{lv_fs}}
            {{lv}}
        {{vg}}
    {{storage}}
  interfaces:
    pxe:
      device_link: pxe-link
      slaves: [nic0]
      networks: [pxe]
      sriov:
        vf_count: 4
        {{sriov}}
      {{interface}}
  platform:
    image: jammy
    {{platform}}
  metadata:
    tags: [a]
    {{metadata}}
  {{host_profile}}
---
schema: drydock/BaremetalNode/v1
metadata: {name: node1}
data:
  host_profile: base
  addressing:
    - network: pxe
      address: 10.0.0.20
      {{addressing}}
  {{node}}
---
schema: drydock/BootAction/v1
metadata: {name: ba}
data:
  signaling: false
  assets:
    - path: /etc/x
      type: file
      data: hello
      {{asset}}
  node_filter:
    filter_set_type: union
    filter_set:
      - filter_type: union
        node_names: [node1]
        {{filter}}
  {{bootaction}}
"#;

/// Every place of the template with the path of an added key `x_extra` there.
const PLACES: &[(&str, &str)] = &[
    ("tag_definition", "data.tag_definitions[0].x_extra"),
    ("repository", "data.repositories.ubuntu.x_extra"),
    ("region", "data.x_extra"),
    ("tor_switch", "data.tor_switches.sw1.x_extra"),
    ("rack", "data.x_extra"),
    ("bonding", "data.bonding.x_extra"),
    ("trunking", "data.trunking.x_extra"),
    ("link", "data.x_extra"),
    ("dns", "data.dns.x_extra"),
    ("range", "data.ranges[0].x_extra"),
    ("route", "data.routes[0].x_extra"),
    ("dhcp_relay", "data.dhcp_relay.x_extra"),
    ("network", "data.x_extra"),
    ("device_alias", "data.device_aliases.nic0.x_extra"),
    ("hugepages", "data.hugepages.dpdk.x_extra"),
    ("hardware", "data.x_extra"),
    ("oob", "data.oob.x_extra"),
    (
        "partition_fs",
        "data.storage.physical_devices.sda.partitions[0].filesystem.x_extra",
    ),
    (
        "partition",
        "data.storage.physical_devices.sda.partitions[0].x_extra",
    ),
    ("device", "data.storage.physical_devices.sda.x_extra"),
    (
        "lv_fs",
        "data.storage.volume_groups.vg0.logical_volumes[0].filesystem.x_extra",
    ),
    (
        "lv",
        "data.storage.volume_groups.vg0.logical_volumes[0].x_extra",
    ),
    ("vg", "data.storage.volume_groups.vg0.x_extra"),
    ("storage", "data.storage.x_extra"),
    ("sriov", "data.interfaces.pxe.sriov.x_extra"),
    ("interface", "data.interfaces.pxe.x_extra"),
    ("platform", "data.platform.x_extra"),
    ("metadata", "data.metadata.x_extra"),
    ("host_profile", "data.x_extra"),
    ("addressing", "data.addressing[0].x_extra"),
    ("node", "data.x_extra"),
    ("asset", "data.assets[0].x_extra"),
    ("filter", "data.node_filter.filter_set[0].x_extra"),
    ("bootaction", "data.x_extra"),
];

/// The places the reference's schemas leave open (no `additionalProperties: false`, or a
/// misspelt subschema that checks nothing).
const OPEN: &[&str] = &[
    "repository",
    "tor_switch",
    "device_alias",
    "hugepages",
    "oob",
    "lv_fs",
    "lv",
    "vg",
    "device",
    "storage",
    "sriov",
    "interface",
    "addressing",
];

/// The template with `line` at `place` and nothing at the other places.
fn with(place: &str, line: &str) -> String {
    let mut text = TEMPLATE.replace(&format!("{{{{{place}}}}}"), line);
    for (other, _) in PLACES {
        text = text.replace(&format!("{{{{{other}}}}}"), "");
    }
    text
}

/// The 1-based line and column of `needle` in `text`.
fn line_col(text: &str, needle: &str) -> (u32, u32) {
    for (i, line) in text.lines().enumerate() {
        if let Some(col) = line.find(needle) {
            return (i as u32 + 1, col as u32 + 1);
        }
    }
    panic!("{needle} not in the text");
}

fn compiled(text: &str) -> CompiledDesign {
    let site = ingest_str(text).unwrap_or_else(|e| panic!("rejected:\n{e}"));
    compile(site).unwrap_or_else(|e| panic!("does not compile:\n{e}"))
}

/// The pass-through value of `x_extra` at `place`, read from the compiled design (the node's
/// own parts, or the documents it uses).
fn kept(d: &CompiledDesign, place: &str) -> Option<serde_json::Value> {
    let node = d.node("node1").expect("node1");
    let site = &d.site;
    let extra = match place {
        "repository" => &site.region.as_ref()?.repositories.repositories[0].extra,
        "tor_switch" => &site.racks["rack1"].tor_switches[0].extra,
        "device_alias" => {
            let hw = &site.hardware_profiles[node.hardware_profile.as_deref()?];
            &hw.device_aliases["nic0"].extra
        }
        "hugepages" => {
            let hw = &site.hardware_profiles[node.hardware_profile.as_deref()?];
            &hw.hugepages["dpdk"].extra
        }
        "oob" => {
            let text = node.oob.parameters.0.get("x_extra")?;
            return serde_json::from_str(text).ok();
        }
        "lv_fs" => {
            &node.volume_groups[0].logical_volumes[0]
                .filesystem
                .as_ref()?
                .extra
        }
        "lv" => &node.volume_groups[0].logical_volumes[0].extra,
        "vg" => &node.volume_groups[0].extra,
        "device" => &node.storage_devices[0].extra,
        "storage" => &node.storage_extra,
        "sriov" => &node.interfaces[0].sriov.as_ref()?.extra,
        "interface" => &node.interfaces[0].extra,
        "addressing" => &node.addressing[0].extra,
        other => panic!("no accessor for {other}"),
    };
    extra.get("x_extra").cloned()
}

#[test]
fn the_template_alone_is_read_without_any_diagnostic() {
    let d = compiled(&with("", ""));
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    assert_eq!(d.nodes.len(), 1);
}

#[test]
fn an_unknown_key_at_an_open_place_is_kept_and_reported_as_an_info() {
    for place in OPEN {
        let path = PLACES.iter().find(|(p, _)| p == place).unwrap().1;
        let text = with(place, "x_extra: {mode: dpdk, queues: 4}");
        let d = compiled(&text);
        let infos: Vec<&Diagnostic> = d
            .warnings
            .iter()
            .filter(|w| w.kind == DiagnosticKind::UnmodelledField)
            .collect();
        // oob has always kept every key: it reports nothing.
        if *place != "oob" {
            assert_eq!(infos.len(), 1, "{place}: {:?}", d.warnings);
            let info = infos[0];
            assert_eq!(info.severity, Severity::Info, "{place}");
            assert_eq!(info.field.as_deref(), Some(path), "{place}");
            let (line, column) = line_col(&text, "x_extra:");
            let pos = info.location.as_ref().expect("a location").pos;
            assert_eq!((pos.line, pos.column), (line, column), "{place}");
            assert_eq!(info.kind.id(), "ingest.unmodelled_field");
        }
        assert_eq!(
            kept(&d, place),
            Some(json!({"mode": "dpdk", "queues": 4})),
            "{place}: the value is not readable from the compiled design"
        );
        let report = validate(&d, &ValidationContext::default());
        assert_eq!(
            report.error_count(),
            0,
            "{place}: an extra key changes no verdict:\n{report}"
        );
    }
}

#[test]
fn an_unknown_key_at_a_closed_place_is_an_error() {
    for (place, path) in PLACES.iter().filter(|(p, _)| !OPEN.contains(p)) {
        let text = with(place, "x_extra: 1");
        let errors = ingest_str(&text)
            .err()
            .unwrap_or_else(|| panic!("{place}: accepted"));
        assert_eq!(errors.0.len(), 1, "{place}: {errors}");
        let e = &errors.0[0];
        assert_eq!(e.kind, DiagnosticKind::UnknownField, "{place}");
        assert_eq!(e.field.as_deref(), Some(*path), "{place}");
        let (line, column) = line_col(&text, "x_extra:");
        let pos = e.location.as_ref().unwrap().pos;
        assert_eq!((pos.line, pos.column), (line, column), "{place}");
    }
}

#[test]
fn a_key_close_to_a_modelled_one_names_it() {
    // Closed places: still an error, now naming the key meant.
    for (place, typo, meant) in [
        ("network", "mtuu: 9000", "mtu"),
        ("network", "vlna: '100'", "vlan"),
        ("link", "MTU: 9000", "mtu"),
        ("partition", "bootabel: true", "bootable"),
    ] {
        let errors = ingest_str(&with(place, typo)).unwrap_err();
        let e = &errors.0[0];
        assert_eq!(e.kind, DiagnosticKind::UnknownField, "{typo}");
        assert!(
            e.message.contains(&format!("did you mean '{meant}'?")),
            "{typo}: {e}"
        );
    }
    // Open places: a warning naming it; the design is still read.
    for (place, typo, meant) in [
        ("interface", "netwroks: [pxe]", "networks"),
        ("interface", "device-link: pxe-link", "device_link"),
        ("sriov", "vf_cuont: 8", "vf_count"),
        ("hugepages", "szie: 2M", "size"),
    ] {
        let d = compiled(&with(place, typo));
        let w: Vec<_> = d
            .warnings
            .iter()
            .filter(|w| w.kind == DiagnosticKind::LikelyTypo)
            .collect();
        assert_eq!(w.len(), 1, "{typo}: {:?}", d.warnings);
        assert_eq!(w[0].severity, Severity::Warning);
        assert!(w[0].message.contains(&format!("'{meant}'")), "{}", w[0]);
    }
    // Real extras are far from every modelled key: infos, not warnings.
    for (place, extra) in [
        ("interface", "ovs_dpdk: {enabled: true}"),
        ("interface", "pci_whitelist: [{address: '0000:00:05.0'}]"),
        ("sriov", "num_vfs: 8"),
        ("sriov", "promisc: false"),
        ("sriov", "device: enp3s0f1"),
        ("hugepages", "socket-mem: '1024,1024'"),
    ] {
        let d = compiled(&with(place, extra));
        let kinds: Vec<_> = d.warnings.iter().map(|w| w.kind).collect();
        assert_eq!(kinds, [DiagnosticKind::UnmodelledField], "{extra}");
    }
}

#[test]
fn several_regions_warn_and_the_last_one_read_is_used() {
    let profile = "schema: drydock/Region/v1\nmetadata: {name: region-profile}\ndata:\n  authorized_keys: [key-of-the-profile]\n";
    let text = format!("---\n{profile}{}", with("", ""));
    let d = compiled(&text);
    let region = d.site.region.as_ref().unwrap();
    assert_eq!(region.name, "site", "the last Region read is used");
    let w: Vec<_> = d
        .warnings
        .iter()
        .filter(|w| w.kind == DiagnosticKind::SeveralRegions)
        .collect();
    assert_eq!(w.len(), 1, "{:?}", d.warnings);
    assert_eq!(w[0].severity, Severity::Warning);
    assert!(
        w[0].message.contains("'region-profile'")
            && w[0].message.contains("'site'")
            && w[0].message.contains("(at <string>:2:1)")
            && w[0].message.contains("'site', the last one read, is used"),
        "{}",
        w[0]
    );
    let report = validate(&d, &ValidationContext::default());
    assert_eq!(report.error_count(), 0, "{report}");
}

#[test]
fn duplicate_names_of_other_kinds_stay_errors_naming_both_places() {
    let net = "schema: drydock/Network/v1\nmetadata: {name: pxe}\ndata: {cidr: 10.9.0.0/24}\n";
    let text = format!("{}---\n{net}", with("", ""));
    let errors = ingest_str(&text).unwrap_err();
    let e = errors
        .iter()
        .find(|e| e.kind == DiagnosticKind::DuplicateName)
        .expect("a duplicate name error");
    let second = line_col(&text, "cidr: 10.9.0.0/24").0;
    assert_eq!(e.location.as_ref().unwrap().pos.line, second - 2, "{e}");
    assert!(e.message.contains("first defined at <string>:"), "{e}");
}

#[test]
fn an_interface_without_link_and_networks_is_valid() {
    let sriov_pf = "      \n    sriov_pf:\n      slaves: [enp3s0f1]\n      sriov:\n        vf_count: 16\n        num_vfs: 16\n        promisc: false\n        device: enp3s0f1\n  platform:";
    let text = with("interface", "").replace("      \n  platform:", sriov_pf);
    let d = compiled(&text);
    let node = d.node("node1").unwrap();
    let pf = node
        .interfaces
        .iter()
        .find(|i| i.name == "sriov_pf")
        .expect("the SR-IOV function is kept");
    assert!(pf.device_link.is_none() && pf.networks.is_empty());
    let sriov = pf.sriov.as_ref().unwrap();
    assert_eq!(sriov.vf_count, 16);
    assert_eq!(sriov.extra["num_vfs"], json!(16));
    let report = validate(&d, &ValidationContext::default());
    assert_eq!(
        report.problems_of(RuleId::AllowedNetworks).count(),
        0,
        "{report}"
    );

    // One carrying networks still needs a link.
    let text = with("interface", "").replace(
        "      \n  platform:",
        "      \n    storage0:\n      networks: [pxe]\n  platform:",
    );
    let d = compiled(&text);
    let report = validate(&d, &ValidationContext::default());
    let f: Vec<_> = report.problems_of(RuleId::AllowedNetworks).collect();
    assert_eq!(f.len(), 1, "{report}");
    assert!(
        f[0].message
            .contains("Interface storage0 connected to undefined network link None")
    );
}
