//! Node filters: the reference's table (drydock.md §3.3) on a three-rack site of our own laid
//! out like the reference's deckhand_fullsite (`tests/designs/three-racks.yaml`), with our fixed
//! semantics where the reference is defective (labels are ANDed, rack labels work, empty sets
//! select nothing, results in design order).

use std::path::PathBuf;

use drydock_core::design::{self, CompiledDesign, NodeFilterSet};
use serde_json::json;

fn fullsite() -> CompiledDesign {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/designs/three-racks.yaml"
    ));
    design::load(&[path]).expect("three-racks.yaml compiles")
}

fn names(d: &CompiledDesign, filter: serde_json::Value) -> Vec<String> {
    let f: NodeFilterSet = serde_json::from_value(filter).expect("a well-formed filter");
    d.select(Some(&f))
        .into_iter()
        .map(|n| n.name.clone())
        .collect()
}

fn one(set: &str, filters: serde_json::Value) -> serde_json::Value {
    json!({"filter_set_type": set, "filter_set": filters})
}

#[test]
fn the_reference_table_with_fixed_semantics() {
    let d = fullsite();
    let all = ["controller01", "compute01", "compute02"];
    assert_eq!(
        d.select(None)
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>(),
        all
    );
    let cases: Vec<(serde_json::Value, Vec<&str>)> = vec![
        (
            one(
                "intersection",
                json!([{"filter_type": "intersection", "node_names": ["compute01"]}]),
            ),
            vec!["compute01"],
        ),
        (
            one(
                "intersection",
                json!([{"filter_type": "intersection", "rack_names": ["rack2", "rack3"]}]),
            ),
            vec!["compute01", "compute02"],
        ),
        // Labels: every pair must match (the reference ORs them and returns compute02).
        (
            one(
                "intersection",
                json!([{"filter_type": "intersection", "node_labels": {"foo": "baz", "x": "y"}}]),
            ),
            vec![],
        ),
        (
            one(
                "intersection",
                json!([{"filter_type": "intersection", "node_labels": {"foo": "baz"}}]),
            ),
            vec!["compute02"],
        ),
        (
            one(
                "intersection",
                json!([{"filter_type": "intersection", "node_names": ["compute01", "compute02"], "rack_names": ["rack2"]}]),
            ),
            vec!["compute01"],
        ),
        (
            one(
                "intersection",
                json!([{"filter_type": "union", "node_names": ["compute01"], "rack_names": ["rack1"]}]),
            ),
            vec!["controller01", "compute01"],
        ),
        (
            one(
                "intersection",
                json!([{"filter_type": "union", "node_names": ["compute01", "compute02"]}, {"filter_type": "union", "rack_names": ["rack3"]}]),
            ),
            vec!["compute02"],
        ),
        (
            one(
                "union",
                json!([{"filter_type": "union", "node_names": ["compute01"]}, {"filter_type": "union", "rack_names": ["rack3"]}]),
            ),
            vec!["compute01", "compute02"],
        ),
        // Empty sets and filters without criteria select nothing (the reference crashes or returns None).
        (one("intersection", json!([])), vec![]),
        (one("union", json!([])), vec![]),
        (
            one("intersection", json!([{"filter_type": "intersection"}])),
            vec![],
        ),
        (one("union", json!([{"filter_type": "union"}])), vec![]),
        (
            one(
                "union",
                json!([{"filter_type": "union", "node_names": ["nope"]}]),
            ),
            vec![],
        ),
        (
            one(
                "union",
                json!([{"filter_type": "union", "node_tags": ["test"]}]),
            ),
            all.to_vec(),
        ),
    ];
    for (filter, want) in cases {
        assert_eq!(names(&d, filter.clone()), want, "filter {filter}");
    }
}

#[test]
fn rack_labels_select_nodes_of_matching_racks() {
    let yaml = "
schema: drydock/Rack/v1
metadata: {name: r1}
data: {labels: {zone: east, row: '1'}}
---
schema: drydock/Rack/v1
metadata: {name: r2}
data: {labels: {zone: west}}
---
schema: drydock/BaremetalNode/v1
metadata: {name: a}
data: {addressing: [{network: n, address: dhcp}], metadata: {rack: r1}}
---
schema: drydock/BaremetalNode/v1
metadata: {name: b}
data: {addressing: [{network: n, address: dhcp}], metadata: {rack: r2}}
---
schema: drydock/BaremetalNode/v1
metadata: {name: c}
data: {addressing: [{network: n, address: dhcp}]}
";
    let d = design::compile(design::ingest_str(yaml).unwrap()).unwrap();
    let f = |labels: serde_json::Value| {
        names(
            &d,
            one(
                "union",
                json!([{"filter_type": "intersection", "rack_labels": labels}]),
            ),
        )
    };
    assert_eq!(f(json!({"zone": "east"})), ["a"]);
    assert_eq!(f(json!({"zone": "east", "row": "1"})), ["a"]);
    assert_eq!(f(json!({"zone": "east", "row": "2"})), Vec::<String>::new());
}

#[test]
fn malformed_filters_are_typed_errors() {
    for bad in [
        json!({}),
        json!({"filter_set_type": "both", "filter_set": []}),
        json!({"filter_set_type": "union", "filter_set": [{"node_names": ["x"]}]}),
        json!({"filter_set_type": "union", "filter_set": [{"filter_type": "union", "node_name": ["x"]}]}),
    ] {
        let err = serde_json::from_value::<NodeFilterSet>(bad.clone()).expect_err("rejected");
        assert!(!err.to_string().is_empty(), "{bad}");
    }
    // In a design document, a malformed filter is reported with its location.
    let yaml = "schema: drydock/BootAction/v1\nmetadata: {name: b}\ndata:\n  assets: []\n  node_filter: {filter_set_type: sometimes, filter_set: []}\n";
    let e = design::ingest_str(yaml).unwrap_err();
    assert_eq!(
        e.0[0].field.as_deref(),
        Some("data.node_filter.filter_set_type")
    );
    assert_eq!(e.0[0].location.as_ref().unwrap().pos.line, 5);
}
