//! Boot action rendering, scoping, tarballs, key checks and status reports (`drydock.md` §6).

use std::io::Read;
use std::sync::Arc;

use drydock_core::bootaction::{
    ActionContext, ActionId, BootActionError, BootActionStatus, BootActions, IdentityKey,
    LocationResolver, RenderContext, RenderedAsset, RenderedContent, ReportStatus,
    actions_for_node, build_tarball, node_assets, node_package_list, render_action, render_asset,
    template_context,
};
use drydock_core::design::yaml::{DocumentText, split_documents};
use drydock_core::design::{
    AssetType, CompiledDesign, Source, compile, ingest_sources, ingest_str,
};
use drydock_core::store::{DesignId, MemoryStore, Store};
use drydock_core::task::{Action, ContextType, Task, TaskId};

/// The reference's samples in the outside corpus, or `None` (a visible skip).
fn samples(test: &str) -> Option<std::path::PathBuf> {
    drydock_core::testing::corpus(test, "drydock-samples")
}

fn sample(dir: &std::path::Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).expect("sample file")
}

/// The documents of `stream` for which `keep` holds, joined back into one stream.
fn documents(stream: &str, keep: impl Fn(&str) -> bool) -> String {
    split_documents(stream)
        .iter()
        .map(|d: &DocumentText<'_>| d.text)
        .filter(|t| keep(t))
        .map(|t| {
            let t = t.trim_end().trim_end_matches("...").trim_end();
            if t.trim_start().starts_with("---") {
                format!("{t}\n")
            } else {
                format!("---\n{t}\n")
            }
        })
        .collect()
}

/// deckhand_fullsite.yaml's nodes and networks with deckhand_bootaction.yaml's boot actions.
///
/// deckhand_bootaction.yaml's `pkg_install` document has an unquoted `0xffff:` package key,
/// which drydock refuses at ingestion (docs/compatibility.md I9), so that document is dropped
/// from the text; fullsite's own boot actions are dropped too (one of them is also called
/// `helloworld`).
fn bootaction_sample_design(dir: &std::path::Path) -> CompiledDesign {
    let site = documents(&sample(dir, "deckhand_fullsite.yaml"), |t| {
        !t.contains("drydock/BootAction/v1")
    });
    let actions = documents(&sample(dir, "deckhand_bootaction.yaml"), |t| {
        !t.contains("name: pkg_install")
    });
    let sources = [
        Source::new("deckhand_fullsite.yaml", site),
        Source::new("deckhand_bootaction.yaml", actions),
    ];
    compile(ingest_sources(&sources).expect("ingest")).expect("compile")
}

fn context<'a>(
    design: &'a CompiledDesign,
    node: &str,
    key: &'a IdentityKey,
    id: ActionId,
) -> RenderContext<'a> {
    RenderContext {
        design,
        node: design.node(node).expect("node"),
        action: ActionContext {
            action_id: id,
            identity_key: key,
            design_ref: "deckhand+https://example.com/design/1",
            report_url: "http://drydock:9000/api/v1.0/bootactions/",
        },
        resolver: None,
    }
}

fn bytes(asset: &RenderedAsset) -> String {
    match &asset.content {
        RenderedContent::Bytes(b) => String::from_utf8(b.clone()).unwrap(),
        RenderedContent::Packages(p) => panic!("packages {p:?}"),
    }
}

/// Entries of a gzipped tar: (name, mode, uid, gid, contents).
fn untar(gz: &[u8]) -> Vec<(String, u32, u64, u64, String)> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gz));
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = String::from_utf8(e.path_bytes().into_owned()).unwrap();
            let h = e.header().clone();
            let mut s = String::new();
            e.read_to_string(&mut s).unwrap();
            (
                name,
                h.mode().unwrap(),
                h.uid().unwrap(),
                h.gid().unwrap(),
                s,
            )
        })
        .collect()
}

#[test]
fn the_sample_helloworld_renders_as_the_reference() {
    let Some(dir) = samples("bootaction_render::the_sample_helloworld_renders_as_the_reference")
    else {
        return;
    };
    let design = bootaction_sample_design(&dir);
    let key = IdentityKey::generate();
    let id = ActionId::new();
    let cx = context(&design, "compute01", &key, id);
    let hello = &design.site.bootactions["helloworld"];
    let files = render_action(&cx, hello, AssetType::File).unwrap();
    let paths: Vec<_> = files.iter().map(|a| a.path.clone().unwrap()).collect();
    assert_eq!(paths, ["/var/tmp/hello.sh", "/var/tmp/designref.sh"]);
    assert_eq!(files[0].mode, 0o555);
    assert_eq!(
        bytes(&files[0]),
        "#!/bin/bash\n\necho 'Hello World! -from compute01'",
        "base64_decode → utf8_decode → template; Jinja2 drops the trailing newline"
    );
    assert_eq!(files[1].mode, 0o500);
    assert_eq!(bytes(&files[1]), "deckhand+https://example.com/design/1");
    let units = render_action(&cx, hello, AssetType::Unit).unwrap();
    assert_eq!(units.len(), 1);
    assert_eq!(
        units[0].path.as_deref(),
        Some("/lib/systemd/system/hello.service")
    );
    assert_eq!(units[0].mode, 0o600);
    assert!(bytes(&units[0]).contains("ExecStart=/var/tmp/hello.sh"));

    let tar = untar(&build_tarball(&files).unwrap());
    assert_eq!(tar.len(), 2);
    assert_eq!(
        tar[0].0, "/var/tmp/hello.sh",
        "absolute member names, as the reference"
    );
    assert_eq!((tar[0].1, tar[0].2, tar[0].3), (0o555, 0, 0));
    assert!(tar[0].4.contains("Hello World! -from compute01"));
    assert_eq!(
        (tar[1].0.as_str(), tar[1].1),
        ("/var/tmp/designref.sh", 0o500)
    );
    let built_twice = build_tarball(&files).unwrap();
    assert_eq!(
        build_tarball(&files).unwrap(),
        built_twice,
        "deterministic bytes"
    );
}

#[test]
fn boot_actions_apply_to_the_nodes_their_filter_selects() {
    let design = drydock_core::design::load(&[concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/designs/three-racks.yaml"
    )])
    .expect("three-racks.yaml");
    let names = |node: &str| -> Vec<String> {
        actions_for_node(&design, node)
            .iter()
            .map(|b| b.name.clone())
            .collect()
    };
    assert_eq!(names("compute01"), ["hw_filtered", "helloworld"]);
    assert_eq!(names("compute02"), ["helloworld", "hw_filtered2"]);
    assert_eq!(names("controller01"), ["helloworld"]);
    assert!(!design.site.bootactions["hw_filtered"].signaling);
    assert!(
        design.site.bootactions["helloworld"].signaling,
        "signaling defaults to true"
    );
}

const SITE: &str = r#"
schema: drydock/Region/v1
metadata: {name: site1}
data: {}
---
schema: drydock/Network/v1
metadata: {name: mgmt}
data: {cidr: 172.16.1.0/24, dns: {domain: mgmt.example.com}}
---
schema: drydock/Network/v1
metadata: {name: storage}
data: {cidr: 172.16.2.0/24, dns: {domain: storage.example.com}}
---
schema: drydock/BaremetalNode/v1
metadata: {name: n1}
data:
  primary_network: mgmt
  addressing:
    - {network: mgmt, address: 172.16.1.21}
    - {network: storage, address: 172.16.2.21}
    - {network: pxe, address: dhcp}
  metadata:
    tags: [compute, gpu]
    owner_data: {rack: r1, role: worker}
---
schema: drydock/BaremetalNode/v1
metadata: {name: n2}
data:
  addressing: [{network: mgmt, address: 172.16.1.22}]
---
schema: drydock/BootAction/v1
metadata: {name: pipes}
data:
  node_filter:
    filter_set_type: union
    filter_set: [{filter_type: union, node_names: [n1]}]
  assets:
    - {type: file, path: /b64enc, data: "hi {{ x }}", data_pipeline: [utf8_decode, utf8_encode, base64_encode]}
    - {type: file, path: /b64dec, data: "aGVsbG8=", data_pipeline: [base64_decode]}
    - {type: file, path: /raw, data: "{{ node.hostname }}"}
    - path: /ctx
      type: file
      permissions: '640'
      data_pipeline: [utf8_decode, template]
      data: "{{ node.hostname }}.{{ node.domain }} tags={{ node.tags|join(',') }} role={{ node.labels.role }} mgmt={{ node.network.mgmt.ip }}/{{ node.network.mgmt.cidr }} {{ node.network.mgmt.dns_suffix }} default={{ node.network.default.ip }} storage={{ node.network.storage.ip }} pxe={{ node.network.pxe is defined }} site={{ site.name }} id={{ action.action_id }} key={{ action.action_key }} url={{ action.report_url }} ref={{ action.design_ref|urlencode }}"
    - type: pkg_list
      data: {curl: null, vim: '2:8.0-1'}
---
schema: drydock/BootAction/v1
metadata: {name: broken}
data:
  signaling: false
  assets:
    - {type: file, path: /syntax, data: "{{ node.hostname ", data_pipeline: [utf8_decode, template]}
    - {type: file, path: /badb64, data: "!!!", data_pipeline: [base64_decode]}
    - {type: file, path: /text-twice, data: "x", data_pipeline: [utf8_decode, utf8_decode]}
    - {type: file, path: /template-bytes, data: "x", data_pipeline: [template]}
    - {type: unit, path: /fetched.service, location: "http://repo/{{ node.hostname }}.service", location_pipeline: [template]}
    - {type: pkg_list, location: "http://repo/pkgs.yaml"}
    - {type: pkg_list, data: {curl: ':)'}}
"#;

fn site() -> CompiledDesign {
    compile(ingest_str(SITE).expect("ingest")).expect("compile")
}

#[test]
fn each_pipeline_segment_and_the_template_context() {
    let design = site();
    let key = IdentityKey::generate();
    let id = ActionId::new();
    let cx = context(&design, "n1", &key, id);
    let pipes = &design.site.bootactions["pipes"];
    let out = render_action(&cx, pipes, AssetType::File).unwrap();
    assert_eq!(
        bytes(&out[0]),
        "aGkge3sgeCB9fQ==",
        "base64 of the untemplated text"
    );
    assert_eq!(bytes(&out[1]), "hello");
    assert_eq!(
        bytes(&out[2]),
        "{{ node.hostname }}",
        "no template segment: data as written"
    );
    // Jinja2 spellings: booleans print as `False`, `urlencode` keeps `/`.
    assert_eq!(out[3].mode, 0o640);
    assert_eq!(out[0].mode, 0o600, "permissions default to 600");
    let expected = format!(
        "n1.mgmt.example.com tags=compute,gpu role=worker mgmt=172.16.1.21/172.16.1.0/24 \
         mgmt.example.com default=172.16.1.21 storage=172.16.2.21 pxe=False site=site1 \
         id={id} key={} url=http://drydock:9000/api/v1.0/bootactions/ \
         ref=deckhand%2Bhttps%3A//example.com/design/1",
        key.to_hex()
    );
    assert_eq!(bytes(&out[3]), expected);
    let ctx = template_context(&design, design.node("n1").unwrap(), &cx.action);
    assert_eq!(ctx["node"]["labels"]["rack"], "r1");
    assert!(
        ctx["node"]["network"].get("pxe").is_none(),
        "only static addresses"
    );
    let pkgs = render_action(&cx, pipes, AssetType::PkgList).unwrap();
    match &pkgs[0].content {
        RenderedContent::Packages(p) => {
            assert_eq!(p["curl"], None);
            assert_eq!(p["vim"].as_deref(), Some("2:8.0-1"));
        }
        other => panic!("{other:?}"),
    }
    let all = node_package_list(&design, design.node("n1").unwrap(), "ref", "url", None);
    let err = all.expect_err("`broken` applies to n1 too and its package lists are invalid");
    assert_eq!(err.action, "broken");
}

#[test]
fn render_errors_name_the_action_the_asset_and_the_node() {
    let design = site();
    let key = IdentityKey::generate();
    let cx = context(&design, "n2", &key, ActionId::new());
    let broken = &design.site.bootactions["broken"];
    let err = |i: usize| render_asset(&cx, broken, i).expect_err("must fail");
    let cases = [
        (0, "/syntax", "template error"),
        (1, "/badb64", "base64_decode: invalid base64"),
        (2, "/text-twice", "utf8_decode: needs bytes"),
        (3, "/template-bytes", "template: needs text"),
        (
            4,
            "/fetched.service",
            "http://repo/n2.service: no location resolver",
        ),
        (
            6,
            "pkg_list #6",
            "Version specifier :) is not a valid format.",
        ),
    ];
    for (i, asset, what) in cases {
        let e = err(i);
        let text = e.to_string();
        assert_eq!(
            (e.action.as_str(), e.asset.as_str(), e.node.as_str()),
            ("broken", asset, "n2")
        );
        assert!(
            text.starts_with(&format!("boot action broken, asset {asset}, node n2: ")),
            "{text}"
        );
        assert!(text.contains(what), "{text} lacks {what}");
    }
    // A resolver fetches locations (after the location pipeline).
    let resolver = |loc: &str| -> Result<Vec<u8>, String> {
        match loc {
            "http://repo/n2.service" => Ok(b"[Unit]\n".to_vec()),
            "http://repo/pkgs.yaml" => Ok(b"curl: '7.0-1'\nvim:\n".to_vec()),
            other => Err(format!("404 for {other}")),
        }
    };
    let cx = RenderContext {
        resolver: Some(&resolver as &dyn LocationResolver),
        ..cx
    };
    assert_eq!(bytes(&render_asset(&cx, broken, 4).unwrap()), "[Unit]\n");
    match render_asset(&cx, broken, 5).unwrap().content {
        RenderedContent::Packages(p) => {
            assert_eq!(p["curl"].as_deref(), Some("7.0-1"));
            assert_eq!(p["vim"], None);
        }
        other => panic!("{other:?}"),
    }
    let n1 = context(&design, "n1", &key, ActionId::new());
    let n1 = RenderContext {
        resolver: Some(&resolver),
        ..n1
    };
    let e = render_asset(&n1, broken, 4).expect_err("404");
    assert!(
        e.to_string().contains("404 for http://repo/n1.service"),
        "{e}"
    );
}

#[test]
fn long_paths_use_gnu_long_names() {
    let path = format!("/opt/{}/unit.service", "x".repeat(120));
    let asset = RenderedAsset {
        action: "a".into(),
        kind: AssetType::Unit,
        path: Some(path.clone()),
        mode: 0o644,
        content: RenderedContent::Bytes(b"body".to_vec()),
    };
    let pkg = RenderedAsset {
        path: None,
        kind: AssetType::PkgList,
        content: RenderedContent::Packages(Default::default()),
        ..asset.clone()
    };
    let tar = untar(&build_tarball(&[asset, pkg]).unwrap());
    assert_eq!(tar.len(), 1, "package lists are not files");
    assert_eq!(
        (tar[0].0.as_str(), tar[0].1, tar[0].4.as_str()),
        (path.as_str(), 0o644, "body")
    );
}

async fn deployment(
    store: &Arc<MemoryStore>,
    design: &CompiledDesign,
    node: &str,
) -> (Task, Vec<drydock_core::bootaction::BootActionRecord>) {
    let task = Task::new(Action::DeployNodes, "d", None, "test");
    store.create_task(&task).await.unwrap();
    let actions = BootActions::new(store.clone());
    let records = actions
        .create_for_node(design, &DesignId("d".into()), task.id, node)
        .await
        .unwrap();
    (task, records)
}

#[tokio::test]
async fn records_keys_and_status_reports() {
    let design = site();
    let store = Arc::new(MemoryStore::new());
    let actions = BootActions::new(store.clone());
    let (task, records) = deployment(&store, &design, "n1").await;
    let names: Vec<_> = records
        .iter()
        .map(|r| (r.action_name.as_str(), r.status))
        .collect();
    assert_eq!(
        names,
        [
            ("pipes", BootActionStatus::Pending),
            ("broken", BootActionStatus::Unreported)
        ]
    );
    let key = records[0].identity_key.to_hex();
    assert_eq!(
        records[1].identity_key.to_hex(),
        key,
        "one key per node and deployment"
    );
    let again = actions
        .create_for_node(&design, &DesignId("d".into()), task.id, "n1")
        .await
        .unwrap();
    assert_eq!(again, records, "idempotent per task and node");
    let none = actions
        .create_for_node(&design, &DesignId("d".into()), TaskId::new(), "nobody")
        .await
        .unwrap();
    assert!(none.is_empty());

    let id = records[0].action_id;
    let wrong = IdentityKey::generate().to_hex();
    let e = actions
        .report(id, Some(&wrong), ReportStatus::Success, &[])
        .await
        .unwrap_err();
    assert!(matches!(e, BootActionError::InvalidKey) && e.http_status() == 403);
    let e = actions
        .report(id, None, ReportStatus::Success, &[])
        .await
        .unwrap_err();
    assert!(matches!(e, BootActionError::MissingKey) && e.http_status() == 401);
    let e = actions
        .report(ActionId::new(), Some(&key), ReportStatus::Success, &[])
        .await
        .unwrap_err();
    assert!(matches!(e, BootActionError::UnknownAction(_)) && e.http_status() == 404);

    let running = actions
        .report(
            id,
            Some(&key),
            ReportStatus::Running,
            &[("starting".into(), false)],
        )
        .await
        .unwrap();
    assert_eq!(running.status, BootActionStatus::Running);
    let done = actions
        .report(
            id,
            Some(&key.to_uppercase()),
            ReportStatus::Failure,
            &[("disk full".into(), true)],
        )
        .await
        .unwrap();
    assert_eq!(done.status, BootActionStatus::Failure);
    for status in [
        ReportStatus::Success,
        ReportStatus::Running,
        ReportStatus::Failure,
    ] {
        let e = actions
            .report(id, Some(&key), status, &[])
            .await
            .unwrap_err();
        assert!(
            matches!(e, BootActionError::Finalized(_)) && e.http_status() == 409,
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            format!("Action {id} status finalized, not available for update.")
        );
    }
    let messages = store
        .get_task(task.id)
        .await
        .unwrap()
        .unwrap()
        .result
        .messages;
    let texts: Vec<_> = messages
        .iter()
        .map(|m| {
            (
                m.context_type,
                m.context.clone(),
                m.message.clone(),
                m.is_error(),
            )
        })
        .collect();
    assert_eq!(
        texts,
        [
            (
                ContextType::Bootaction,
                id.to_string(),
                "starting".to_owned(),
                false
            ),
            (
                ContextType::Bootaction,
                id.to_string(),
                "disk full".to_owned(),
                true
            ),
        ]
    );
    // Nothing prints the key.
    assert!(!format!("{records:?}{done:?}{e:?}", e = BootActionError::InvalidKey).contains(&key));
}

#[tokio::test]
async fn the_asset_endpoint_checks_the_node_key_and_serves_its_latest_deployment() {
    let design = drydock_core::design::load(&[concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/designs/three-racks.yaml"
    )])
    .expect("three-racks.yaml");
    let store = Arc::new(MemoryStore::new());
    let actions = BootActions::new(store.clone());
    let e = actions
        .authorize_node("compute01", Some("00"))
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), 404);
    let (_, old) = deployment(&store, &design, "compute01").await;
    let (_, new) = deployment(&store, &design, "compute01").await;
    let old_key = old[0].identity_key.to_hex();
    let key = new[0].identity_key.to_hex();
    assert_eq!(
        actions
            .authorize_node("compute01", None)
            .await
            .unwrap_err()
            .http_status(),
        401
    );
    assert_eq!(
        actions
            .authorize_node("compute01", Some(&old_key))
            .await
            .unwrap_err()
            .http_status(),
        403,
        "only the latest deployment's key opens the node's assets"
    );
    let records = actions
        .authorize_node("compute01", Some(&key))
        .await
        .unwrap();
    assert_eq!(records, new);
    let files = node_assets(&design, &records, AssetType::File, "url", None).unwrap();
    let tar = untar(&build_tarball(&files).unwrap());
    let names: Vec<_> = tar.iter().map(|e| (e.0.as_str(), e.1)).collect();
    assert_eq!(
        names,
        [
            ("/etc/rack-note", 0o444),
            ("/usr/local/bin/hello", 0o555),
            ("/var/lib/design-ref", 0o500)
        ]
    );
    assert_eq!(tar[2].4, "d", "design_ref is the deployment's design id");
}

/// Templates that would spin, recurse or allocate without end fail with a template error
/// (recursion cannot even be written: macros are not part of the template language here).
#[test]
fn template_work_and_output_are_bounded() {
    let hostile = [
        (
            "/spin",
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "fuel",
        ),
        (
            "/recurse",
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
            "unknown statement",
        ),
        ("/huge-repeat", "{{ 'x' * 4000000000 }}", "too large"),
        (
            "/huge-output",
            "{% for i in range(64) %}{{ 'x' * 1000000 }}{% endfor %}",
            "exceed",
        ),
    ];
    let mut site = SITE.to_owned();
    site.push_str("---\nschema: drydock/BootAction/v1\nmetadata: {name: hostile}\ndata:\n  signaling: false\n  assets:\n");
    for (path, template, _) in hostile {
        site.push_str(&format!(
            "    - {{type: file, path: {path}, data: \"{template}\", data_pipeline: [utf8_decode, template]}}\n"
        ));
    }
    let design = compile(ingest_str(&site).expect("ingest")).expect("compile");
    let key = IdentityKey::generate();
    let cx = context(&design, "n1", &key, ActionId::new());
    let action = &design.site.bootactions["hostile"];
    for (i, (path, _, what)) in hostile.iter().enumerate() {
        let err = render_asset(&cx, action, i).expect_err(path);
        let text = err.to_string();
        assert!(text.contains("template error"), "{path}: {text}");
        assert!(
            text.to_lowercase().contains(what),
            "{path}: {text} lacks {what}"
        );
    }
}
