//! Conformance of validation with the reference: for every Deckhand-format sample of the
//! outside corpus's `drydock-samples/`, the verdict equals `reference-output/`, and each rule
//! reports problems (errors or warnings) on the same documents with the same severity, except
//! for the differences in [`EXCEPTIONS`] (also listed in docs/compatibility.md, table V). That
//! test skips visibly without the corpus; the others run on the project's own designs and
//! generated sites.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use drydock_core::design::{self, Severity};
use drydock_core::validation::{RuleId, ValidationContext, validate};

/// The reference's samples, or `None` (a visible skip, or a failure under DRYDOCK_REQUIRE_ALL).
fn samples(test: &str) -> Option<PathBuf> {
    drydock_core::testing::corpus(
        &format!("validation_conformance::{test}"),
        "drydock-samples",
    )
}

/// What one rule reported: whether it had an error, and the documents of its errors and warnings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct RuleOutcome {
    error: bool,
    warning: bool,
    documents: BTreeSet<String>,
}

#[derive(Debug)]
struct Outcome {
    valid: bool,
    /// `None` when the design was rejected before validation.
    rules: Option<BTreeMap<RuleId, RuleOutcome>>,
}

/// Differences from the reference, by (sample, rule), with the reason. Each must still occur.
const EXCEPTIONS: &[(&str, RuleId, &str)] = &[
    (
        "invalid_kernel.yaml",
        RuleId::BootStorage,
        "the root volume's size is a percentage, which depends on the disk: not an invalid format (the reference cannot parse '%' sizes)",
    ),
    (
        "storage_sizing.yaml",
        RuleId::BootStorage,
        "the root volume's size is a percentage, which depends on the disk: not an invalid format (the reference cannot parse '%' sizes)",
    ),
    (
        "invalid_validation.yaml",
        RuleId::StorageMountpoints,
        "every duplicate mountpoint is reported; the reference stops at the first one of the whole design (bad__name also mounts /boot twice)",
    ),
    (
        "invalid_mountpoint.yaml",
        RuleId::StorageMountpoints,
        "every duplicate mountpoint is reported; the reference stops at the first one of the whole design (compute01 also mounts /var/log twice)",
    ),
    (
        "invalid_unique_network.yaml",
        RuleId::AllowedNetworks,
        "a network allowed on two links names both NetworkLink documents; the reference gives no document",
    ),
    (
        "invalid_validation.yaml",
        RuleId::StoragePartitioning,
        "a new warning: device sdb is a physical volume of volume group 'failure', which is not defined (the device would stay unused)",
    ),
];

fn ours(dir: &Path, file: &str) -> Outcome {
    let design = match design::load(&[dir.join(file)]) {
        Ok(d) => d,
        Err(_) => {
            return Outcome {
                valid: false,
                rules: None,
            };
        }
    };
    let report = validate(&design, &ValidationContext::default());
    let mut rules: BTreeMap<RuleId, RuleOutcome> = BTreeMap::new();
    for id in RuleId::ALL {
        rules.insert(*id, RuleOutcome::default());
    }
    for f in report.findings.iter().filter(|f| f.level != Severity::Info) {
        let r = rules.entry(f.rule).or_default();
        r.error |= f.level == Severity::Error;
        r.warning |= f.level == Severity::Warning;
        r.documents
            .extend(f.documents.iter().map(|d| format!("{}/{}", d.kind, d.name)));
    }
    Outcome {
        valid: report.is_valid(),
        rules: Some(rules),
    }
}

fn reference(dir: &Path, file: &str) -> Outcome {
    let json = dir
        .join("reference-output")
        .join(file.replace(".yaml", ".json"));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let messages = r["messages"].as_array().cloned().unwrap_or_default();
    let ingest_failed = r["status"] == "failure"
        && messages
            .iter()
            .all(|m| m["name"] == "DD000" || m["name"] == "DD001");
    if ingest_failed {
        return Outcome {
            valid: false,
            rules: None,
        };
    }
    let mut rules: BTreeMap<RuleId, RuleOutcome> = BTreeMap::new();
    for m in &messages {
        let text = m["message"].as_str().unwrap_or_default();
        let Some(rule) = text.split(": ").next().and_then(RuleId::from_long_name) else {
            continue; // "Error loading effective site: ..." (a crash)
        };
        let entry = rules.entry(rule).or_default();
        let level = m["level"].as_str().unwrap_or_default();
        if level == "Info" {
            continue;
        }
        entry.error |= level == "Error";
        entry.warning |= level == "Warning";
        for d in m["documents"].as_array().into_iter().flatten() {
            let schema = d["schema"].as_str().unwrap_or_default();
            let kind = schema.split('/').nth(1).unwrap_or_default();
            entry
                .documents
                .insert(format!("{kind}/{}", d["name"].as_str().unwrap_or_default()));
        }
    }
    Outcome {
        valid: r["status"] == "Success",
        rules: Some(rules),
    }
}

fn deckhand_samples(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".yaml"))
        .filter(|n| {
            std::fs::read_to_string(dir.join(n))
                .unwrap()
                .lines()
                .any(|l| l.starts_with("schema:") && l.contains("drydock/"))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_deckhand_sample_validates_as_the_reference() {
    let Some(dir) = samples("every_deckhand_sample_validates_as_the_reference") else {
        return;
    };
    let files = deckhand_samples(&dir);
    assert!(
        files.len() >= 25,
        "expected the 26 Deckhand samples, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    let mut used: BTreeSet<(&str, RuleId)> = BTreeSet::new();
    for file in &files {
        let (want, got) = (reference(&dir, file), ours(&dir, file));
        if want.valid != got.valid {
            failures.push(format!(
                "{file}: verdict: reference valid={}, drydock valid={}",
                want.valid, got.valid
            ));
        }
        let (Some(want_rules), Some(got_rules)) = (&want.rules, &got.rules) else {
            continue;
        };
        // Rules the reference did not run (it crashed before them) are not compared.
        for (rule, w) in want_rules {
            let g = got_rules.get(rule).cloned().unwrap_or_default();
            if *w == g {
                continue;
            }
            match EXCEPTIONS.iter().find(|(f, r, _)| f == file && r == rule) {
                Some((f, r, _)) => {
                    used.insert((f, *r));
                }
                None => failures.push(format!(
                    "{file}: {rule}: reference {w:?}\n    drydock {g:?}"
                )),
            }
        }
    }
    for (f, r, why) in EXCEPTIONS {
        if !used.contains(&(*f, *r)) {
            failures.push(format!(
                "{f}: {r}: listed exception no longer occurs ({why})"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn synthetic_sites_and_the_example_site_stay_valid() {
    let dir = tempfile::tempdir().unwrap();
    for n in [10, 100, 1000] {
        let path = dir.path().join(format!("site_{n}.yaml"));
        std::fs::write(&path, drydock_core::testing::sites::generate(n)).unwrap();
        let report = drydock_core::validation::testing::assert_site_valid(&path);
        assert_eq!(
            report.rules_with_problems(),
            [RuleId::PlatformSelection],
            "site_{n}:\n{report}"
        );
    }
    drydock_core::validation::testing::assert_site_valid(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/sites/demo-site"
    ));
}

/// The validator runs the rules that go node by node together; each rule run alone gives the
/// same findings, in the same order.
#[test]
fn rules_run_together_report_what_each_rule_alone_reports() {
    use drydock_core::design::{Source, compile, ingest_sources};
    use drydock_core::validation::{Validator, rules};
    let yaml_in = |dir: &Path| -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        paths.sort();
        paths
    };
    let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/designs");
    // The project's own designs (valid and broken), the example site, a generated site, and
    // the reference's samples when the outside corpus is there.
    let mut designs = Vec::new();
    for path in [yaml_in(&own), yaml_in(&own.join("broken"))].concat() {
        designs.push((path.display().to_string(), design::load(&[&path])));
    }
    designs.push((
        "demo-site".into(),
        design::load(&[own.join("../../../examples/sites/demo-site")]),
    ));
    let generated = Source::new("site_100.yaml", drydock_core::testing::sites::generate(100));
    designs.push((
        "site_100.yaml".into(),
        ingest_sources(&[generated]).and_then(compile),
    ));
    let own_count = designs.len();
    if let Some(dir) = samples("rules_run_together_report_what_each_rule_alone_reports") {
        for path in yaml_in(&dir) {
            designs.push((path.display().to_string(), design::load(&[&path])));
        }
    }
    let mut checked = 0;
    for (i, (path, design)) in designs.into_iter().enumerate() {
        let Ok(design) = design else {
            assert!(
                i >= own_count,
                "{path}: the project's own design does not compile"
            );
            continue;
        };
        let cx = ValidationContext::default();
        let together = validate(&design, &cx);
        let alone = Validator::with_rules(rules::all()).validate(&design, &cx);
        assert_eq!(together, alone, "{path}");
        checked += 1;
    }
    assert!(checked >= own_count, "only {checked} designs checked");
}
