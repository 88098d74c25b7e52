//! Honesty of the fake: every route and op it serves exists in MAAS' handler annotations
//! (`maas-api-ops.tsv` of the outside reference; those tests skip visibly without it) with the
//! same verb.
#![cfg(feature = "fake")]

use std::collections::HashSet;

use drydock_driver_maas::fake::routes::{META_ROUTES, ROUTES, Routed, route};

/// `{system_id}` → `{}`.
fn normalize(path: &str) -> String {
    let mut out = String::new();
    let mut in_brace = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_brace = true;
                out.push_str("{}");
            }
            '}' => in_brace = false,
            _ if in_brace => {}
            _ => out.push(c),
        }
    }
    out
}

/// Expands the TSV path column: `a | b`, `x (also y, z)`, `[s]`, `(NO trailing slash)`.
fn expand(column: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for alt in column.split(" | ") {
        let alt = alt.replace("(NO trailing slash)", "");
        let (base, also) = match alt.split_once("(also ") {
            Some((b, rest)) => (
                b.trim().to_owned(),
                rest.trim_end().trim_end_matches(')').to_owned(),
            ),
            None => (alt.trim().to_owned(), String::new()),
        };
        let mut all = vec![base];
        all.extend(
            also.split(", ")
                .filter(|s| !s.is_empty())
                .map(|s| s.trim().to_owned()),
        );
        for p in all {
            if p.contains("[s]") {
                paths.push(p.replace("[s]", ""));
                paths.push(p.replace("[s]", "s"));
            } else {
                paths.push(p);
            }
        }
    }
    paths.into_iter().map(|p| normalize(&p)).collect()
}

/// The signatures of MAAS' handler annotations, or `None` (a visible skip) without the
/// outside reference.
fn tsv_signatures(test: &str) -> Option<HashSet<(String, String, String)>> {
    let tsv =
        drydock_core::testing::reference(&format!("fake_routes::{test}"), "maas-api-ops.tsv")?;
    let text = std::fs::read_to_string(&tsv).expect("maas-api-ops.tsv reads");
    let mut set = HashSet::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (verb, path, op) = (cols[3], cols[4], cols[5]);
        for p in expand(path) {
            set.insert((verb.to_owned(), p, op.to_owned()));
        }
    }
    Some(set)
}

#[test]
fn the_tsv_parser_expands_alternatives() {
    let Some(set) = tsv_signatures("the_tsv_parser_expands_alternatives") else {
        return;
    };
    assert!(set.len() >= 165, "{} signatures", set.len());
    for (verb, path, op) in [
        ("GET", "machines/{}/", ""),
        ("GET", "rackcontrollers/", ""),
        ("GET", "nodes/{}/blockdevices/{}/partition/{}", ""),
        ("DELETE", "nodes/{}/volume-groups/{}/", ""),
        ("GET", "vlans/{}/", ""),
    ] {
        assert!(
            set.contains(&(verb.into(), path.into(), op.into())),
            "{verb} {path} {op}"
        );
    }
    assert!(!set.contains(&("POST".into(), "machines/{}/".into(), "frobnicate".into())));
}

#[test]
fn every_fake_route_exists_in_maas_with_the_same_verb() {
    let Some(set) = tsv_signatures("every_fake_route_exists_in_maas_with_the_same_verb") else {
        return;
    };
    let mut missing = Vec::new();
    for r in ROUTES {
        if META_ROUTES.contains(&r.template) {
            continue;
        }
        let sig = (r.verb.to_owned(), normalize(r.template), r.op.to_owned());
        if !set.contains(&sig) {
            missing.push(sig);
        }
    }
    assert!(
        missing.is_empty(),
        "fake routes not served by MAAS: {missing:?}"
    );
    // The only exception is MAAS' own describe/ endpoint (urls_api.py, not an API handler).
    assert_eq!(META_ROUTES, &["describe/"]);
}

#[test]
fn every_route_is_reachable_and_not_shadowed() {
    for r in ROUTES {
        let path = normalize(r.template).replace("{}", "x1");
        match route(r.verb, &path, r.op) {
            Routed::Found(found, caps) => {
                assert_eq!(
                    found.handler, r.handler,
                    "{} {} {}",
                    r.verb, r.template, r.op
                );
                assert_eq!(caps.len(), r.template.matches('{').count());
            }
            other => panic!("{} {} op={} routes to {other:?}", r.verb, r.template, r.op),
        }
    }
    assert!(matches!(route("GET", "machines", ""), Routed::UnknownPath));
    assert!(matches!(
        route("GET", "machines/", "frobnicate"),
        Routed::WrongSignature
    ));
}
