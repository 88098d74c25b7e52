//! Every kind of ingestion problem is reported with its document, field path and location, and
//! one bad document never hides the others.

use drydock_core::design::{
    Diagnostic, DiagnosticKind, Diagnostics, Pos, Severity, Source, ingest_str,
};

fn errors(yaml: &str) -> Diagnostics {
    ingest_str(yaml).expect_err("the design should be rejected")
}

fn only(d: &Diagnostics) -> &Diagnostic {
    assert_eq!(d.0.len(), 1, "expected one diagnostic, got:\n{d}");
    &d.0[0]
}

fn pos(d: &Diagnostic) -> Pos {
    d.location.as_ref().expect("a location").pos
}

const NET_OK: &str =
    "schema: drydock/Network/v1\nmetadata: {name: ok}\ndata: {cidr: 10.0.0.0/24}\n";

#[test]
fn yaml_syntax_error_is_located_and_other_documents_still_read() {
    let yaml = format!(
        "---\n{NET_OK}---\nschema: drydock/Network/v1\nmetadata: {{name: bad}}\ndata: {{cidr: [1,\n---\nschema: drydock/Network/v1\nmetadata: {{name: other}}\ndata: {{foo: 1, cidr: 10.1.0.0/24}}\n"
    );
    let d = errors(&yaml);
    assert_eq!(d.0.len(), 2, "{d}");
    assert_eq!(d.0[0].kind, DiagnosticKind::YamlSyntax);
    assert!(pos(&d.0[0]).line >= 7, "{}", d.0[0]);
    // The document after the broken one is still read, and its own problem reported.
    assert_eq!(d.0[1].kind, DiagnosticKind::UnknownField);
    assert_eq!(d.0[1].document.as_ref().unwrap().name, "other");
    assert_eq!(d.0[1].field.as_deref(), Some("data.foo"));
    assert_eq!(
        pos(&d.0[1]),
        Pos {
            line: 12,
            column: 8
        }
    );
}

#[test]
fn unknown_kind_and_version() {
    let d = errors("schema: drydock/Foo/v1\nmetadata: {name: x}\ndata: {}\n");
    let e = only(&d);
    assert_eq!(e.kind, DiagnosticKind::UnknownKind);
    assert!(
        e.message.contains("'Foo'") && e.message.contains("BaremetalNode"),
        "{e}"
    );
    assert_eq!(pos(e), Pos { line: 1, column: 9 });

    let d = errors("schema: drydock/Network/v2\nmetadata: {name: x}\ndata: {cidr: 10.0.0.0/8}\n");
    let e = only(&d);
    assert_eq!(e.kind, DiagnosticKind::UnsupportedVersion);
    assert_eq!(e.document.as_ref().unwrap().name, "x");
}

#[test]
fn other_namespaces_are_skipped_and_counted() {
    let yaml = format!(
        "schema: promenade/Genesis/v1\nmetadata: {{name: g}}\ndata: {{}}\n---\nschema: deckhand/LayeringPolicy/v1\nmetadata: {{name: l}}\ndata: {{}}\n---\n{NET_OK}"
    );
    let design = ingest_str(&yaml).unwrap();
    assert_eq!(design.skipped_documents, 2);
    assert_eq!(design.networks.len(), 1);
}

#[test]
fn document_without_envelope_is_an_error() {
    let e = errors("metadata: {name: x}\ndata: {cidr: 10.0.0.0/8}\n");
    assert_eq!(only(&e).kind, DiagnosticKind::InvalidEnvelope);
    let e = errors("schema: drydock/Network/v1\nmetadata: {}\ndata: {cidr: 10.0.0.0/8}\n");
    let e = only(&e);
    assert_eq!(e.kind, DiagnosticKind::MissingField);
    assert_eq!(e.field.as_deref(), Some("metadata.name"));
}

#[test]
fn every_error_of_one_document_is_reported() {
    // The reference reports both of these as DD001 schema errors.
    let d = errors(
        "schema: drydock/Network/v1\nmetadata: {name: n}\ndata:\n  cidr: 10.0.0.0/24\n  mtu: 'x'\n  foo: bar\n",
    );
    assert_eq!(d.0.len(), 2, "{d}");
    let wrong =
        d.0.iter()
            .find(|e| e.kind == DiagnosticKind::WrongType)
            .expect("wrong type");
    assert_eq!(wrong.field.as_deref(), Some("data.mtu"));
    assert_eq!(pos(wrong), Pos { line: 5, column: 8 });
    assert!(
        wrong
            .message
            .contains("expected a number, found the string 'x'"),
        "{wrong}"
    );
    let unknown =
        d.0.iter()
            .find(|e| e.kind == DiagnosticKind::UnknownField)
            .expect("unknown field");
    assert_eq!(unknown.field.as_deref(), Some("data.foo"));
    assert!(
        unknown.message.contains("expected one of: cidr,"),
        "{unknown}"
    );
}

#[test]
fn missing_required_fields() {
    let d = errors("schema: drydock/Network/v1\nmetadata: {name: n}\ndata: {mtu: 1500}\n");
    let e = only(&d);
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (DiagnosticKind::MissingField, Some("data.cidr"))
    );

    let d =
        errors("schema: drydock/BaremetalNode/v1\nmetadata: {name: n1}\ndata: {host_profile: p}\n");
    let e = only(&d);
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (DiagnosticKind::MissingField, Some("data.addressing"))
    );
    assert!(e.message.contains("at least one address"), "{e}");

    let d = errors("schema: drydock/NetworkLink/v1\nmetadata: {name: l}\ndata: {mtu: 1500}\n");
    assert_eq!(only(&d).field.as_deref(), Some("data.allowed_networks"));
}

#[test]
fn invalid_enum_values_name_the_allowed_ones() {
    // `balanced-rr` is the spelling of the reference's own documentation; the value is `balance-rr`.
    let d = errors(
        "schema: drydock/NetworkLink/v1\nmetadata: {name: l}\ndata:\n  bonding: {mode: balanced-rr}\n  allowed_networks: [a]\n",
    );
    let e = only(&d);
    assert_eq!(e.kind, DiagnosticKind::InvalidValue);
    assert_eq!(e.field.as_deref(), Some("data.bonding.mode"));
    assert_eq!(
        e.message,
        "'balanced-rr' is not a valid bonding mode; expected one of: disabled, 802.3ad, balance-rr, active-backup"
    );
    assert_eq!(
        pos(e),
        Pos {
            line: 4,
            column: 19
        }
    );
}

#[test]
fn nested_field_paths_with_list_indices() {
    let yaml = "schema: drydock/HostProfile/v1\nmetadata: {name: p}\ndata:\n  interfaces:\n    pxe:\n      device_link: pxe\n      networks: [pxe, {bad: 1}]\n";
    let d = errors(yaml);
    let e = only(&d);
    assert_eq!(e.kind, DiagnosticKind::WrongType);
    assert_eq!(e.field.as_deref(), Some("data.interfaces.pxe.networks[1]"));
    assert_eq!(
        pos(e),
        Pos {
            line: 7,
            column: 23
        }
    );
    assert_eq!(
        e.to_string(),
        "<string>:7:23: error: wrong type in HostProfile 'p' at data.interfaces.pxe.networks[1]: expected a string, found a mapping"
    );
}

#[test]
fn malformed_addresses_and_cidrs() {
    let yaml = "schema: drydock/Network/v1\nmetadata: {name: n}\ndata:\n  cidr: 10.0.0.0/33\n  ranges:\n    - {type: static, start: 10.0.0.300, end: 10.0.0.9}\n";
    let d = errors(yaml);
    assert_eq!(d.0.len(), 2, "{d}");
    assert_eq!(d.0[0].field.as_deref(), Some("data.cidr"));
    assert!(
        d.0[0].message.starts_with("'10.0.0.0/33' is not a CIDR"),
        "{}",
        d.0[0]
    );
    assert_eq!(d.0[1].field.as_deref(), Some("data.ranges[0].start"));
}

#[test]
fn duplicate_document_names_point_at_both() {
    let yaml = format!("{NET_OK}---\n{NET_OK}");
    let d = errors(&yaml);
    let e = only(&d);
    assert_eq!(e.kind, DiagnosticKind::DuplicateName);
    assert_eq!(pos(e).line, 5);
    assert!(e.message.contains("first defined at <string>:1:1"), "{e}");
}

#[test]
fn duplicate_keys_warn_and_the_last_value_wins() {
    let design = ingest_str("schema: drydock/Network/v1\nmetadata: {name: n}\ndata:\n  cidr: 10.0.0.0/24\n  cidr: 10.1.0.0/24\n").unwrap();
    assert_eq!(design.networks["n"].cidr.to_string(), "10.1.0.0/24");
    assert_eq!(design.warnings.len(), 1);
    let w = &design.warnings[0];
    assert_eq!(
        (w.kind, w.severity),
        (DiagnosticKind::DuplicateKey, Severity::Warning)
    );
    assert_eq!(w.field.as_deref(), Some("data.cidr"));
}

#[test]
fn package_names_that_yaml_reads_as_numbers_must_be_quoted() {
    let yaml = "schema: drydock/BootAction/v1\nmetadata: {name: b}\ndata:\n  assets:\n    - type: pkg_list\n      data:\n        2ping: '3.2.1-1'\n        0xffff:\n";
    let d = errors(yaml);
    let e = only(&d);
    assert_eq!(e.field.as_deref(), Some("data.assets[0].data.0xffff"));
    assert!(e.message.contains("quote it"), "{e}");
    let ok = yaml.replace("0xffff:", "'0xffff':");
    let design = ingest_str(&ok).unwrap();
    assert_eq!(design.bootactions["b"].assets.len(), 1);
}

#[test]
fn bad_input_never_panics_and_always_reports() {
    for yaml in [
        "",
        "---\n",
        "- a\n- b\n",
        "schema: drydock/Region/v1\n",
        "schema: [x]\n",
        "{",
        "schema: drydock/BaremetalNode/v1\nmetadata: {name: n}\ndata: 7\n",
        "a: *nope\n",
    ] {
        // Empty input is an empty design; anything else non-conforming is reported, not a panic.
        match ingest_str(yaml) {
            Ok(design) => assert!(
                design.networks.is_empty() && design.baremetal_nodes.is_empty(),
                "{yaml:?}"
            ),
            Err(d) => assert!(d.has_errors(), "{yaml:?}"),
        }
    }
}

#[test]
fn secrets_are_not_shown() {
    let yaml = "schema: drydock/HostProfile/v1\nmetadata: {name: p}\ndata:\n  oob: {type: ipmi, network: oob, account: admin, credential: s3cr3t-pw}\n";
    let design = ingest_str(yaml).unwrap();
    let shown = format!(
        "{:?} {}",
        design.host_profiles["p"],
        serde_json::to_string(&design.host_profiles["p"]).unwrap()
    );
    assert!(!shown.contains("s3cr3t-pw"), "{shown}");
    assert!(shown.contains("***"));
}

#[cfg(unix)]
#[test]
fn symbolic_link_loops_are_read_once_and_end() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("net.yaml"),
        "schema: drydock/Network/v1\nmetadata: {name: oob}\ndata: {cidr: 10.0.0.0/24}\n",
    )
    .unwrap();
    // One link back to the directory itself, one to its parent (which holds it again).
    symlink(".", site.join("self")).unwrap();
    symlink("..", site.join("up")).unwrap();
    let design = drydock_core::design::ingest_paths(&[&site]).expect("read once, no duplicates");
    assert_eq!(design.networks.len(), 1);
}

#[test]
fn a_source_debug_shows_no_design_text() {
    let source = Source::new(
        "site.yaml",
        "data: {oob: {type: ipmi, credential: hunter2secret}}\n",
    );
    let shown = format!("{source:?}");
    assert!(!shown.contains("hunter2secret"), "{shown}");
    assert!(shown.contains("site.yaml"), "{shown}");
}
