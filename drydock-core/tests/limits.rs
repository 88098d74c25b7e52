//! Large mappings load in linear time, and documents and mappings beyond drydock's bounds are
//! refused with a typed error naming the document, the limit and the place.

use drydock_core::design::decode::MAX_MAPPING_ENTRIES;
use drydock_core::design::yaml::MAX_DOCUMENT_BYTES;
use drydock_core::design::{DiagnosticKind, compile, ingest_str};

/// A node whose `data.metadata.owner_data` has `n` keys (and `data.platform.kernel_params` as
/// many when `params`).
fn node_with_keys(n: usize, params: bool) -> String {
    let mut text = String::with_capacity(n * 60);
    text.push_str("schema: drydock/BaremetalNode/v1\nmetadata: {name: big}\ndata:\n");
    text.push_str("  addressing:\n    - network: pxe\n      address: dhcp\n");
    if params {
        text.push_str("  platform:\n    kernel_params:\n");
        for i in 0..n {
            text.push_str(&format!("      param_{i}: value_{i}\n"));
        }
    }
    text.push_str("  metadata:\n    owner_data:\n");
    for i in 0..n {
        text.push_str(&format!("      key_{i}: value_{i}\n"));
    }
    text
}

#[test]
fn a_mapping_of_200000_keys_loads() {
    let n = 200_000;
    let design = compile(ingest_str(&node_with_keys(n, true)).unwrap()).unwrap();
    let node = design.node("big").unwrap();
    assert_eq!(node.owner_data.len(), n);
    assert_eq!(node.owner_data["key_199999"], "value_199999");
    assert_eq!(node.platform.kernel_params.len(), n);
}

#[test]
fn duplicate_keys_of_a_large_mapping_are_all_found() {
    let mut text = node_with_keys(1_000, false);
    text.push_str("      key_10: again\n      key_999: again\n");
    let design = ingest_str(&text).unwrap();
    let dups: Vec<_> = design
        .warnings
        .iter()
        .filter(|w| w.kind == DiagnosticKind::DuplicateKey)
        .collect();
    assert_eq!(dups.len(), 2, "{dups:?}");
    assert_eq!(
        dups[0].field.as_deref(),
        Some("data.metadata.owner_data.key_10")
    );
    assert!(dups[0].message.contains("first at line 19"), "{}", dups[0]);
    assert_eq!(
        design.baremetal_nodes["big"].spec.owner_data["key_10"],
        "again"
    );
}

#[test]
fn a_mapping_beyond_the_limit_is_refused() {
    let text = node_with_keys(MAX_MAPPING_ENTRIES + 1, false);
    let errors = ingest_str(&text).unwrap_err();
    let e = errors
        .iter()
        .find(|e| e.kind == DiagnosticKind::LimitExceeded)
        .unwrap_or_else(|| panic!("no limit error:\n{errors}"));
    assert_eq!(e.kind.id(), "ingest.limit_exceeded");
    assert_eq!(e.document.as_ref().unwrap().name, "big");
    assert_eq!(e.field.as_deref(), Some("data.metadata.owner_data"));
    // The mapping starts on the line after `owner_data:`.
    assert_eq!(e.location.as_ref().unwrap().pos.line, 9);
    assert!(
        e.message.contains(&MAX_MAPPING_ENTRIES.to_string())
            && e.message
                .contains(&format!("{} entries", MAX_MAPPING_ENTRIES + 1)),
        "{e}"
    );
}

#[test]
fn a_document_beyond_the_limit_is_refused_and_the_others_read() {
    let small = "schema: drydock/Network/v1\nmetadata: {name: pxe}\ndata:\n  cidr: 10.0.0.0/24\n  x: oops\n";
    let mut big = String::from(
        "schema: drydock/Network/v1\nmetadata: {name: big}\ndata:\n  cidr: 10.1.0.0/24\n  labels:\n",
    );
    let line = format!("    # {}\n", "x".repeat(1000));
    while big.len() <= MAX_DOCUMENT_BYTES {
        big.push_str(&line);
    }
    let text = format!("---\n{small}---\n{big}");
    let errors = ingest_str(&text).unwrap_err();
    assert_eq!(errors.0.len(), 2, "{errors}");
    // The small document is still read (its own unknown field reported).
    assert_eq!(errors.0[0].kind, DiagnosticKind::UnknownField);
    let e = &errors.0[1];
    assert_eq!(e.kind, DiagnosticKind::LimitExceeded);
    assert_eq!(e.location.as_ref().unwrap().pos.line, 7);
    assert!(
        e.message.contains("starting at line 7")
            && e.message.contains(&MAX_DOCUMENT_BYTES.to_string()),
        "{e}"
    );
}
