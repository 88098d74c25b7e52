//! Reads, compiles and validates a site design with every rule.
//!
//! ```text
//! cargo run --release --example validate_design -- [--json] [--infos] PATH...
//! ```
//!
//! Every message names its document, the field path and the line:column of the value. Infos
//! (fields the design carries that drydock keeps as pass-through data) are counted, and listed
//! with `--infos` (always in the JSON).
//!
//! PATHs are files or directories (walked for `*.yaml`/`*.yml`). Exit status: 0 for a valid
//! design, 1 for an invalid one, 2 for usage or I/O errors.
//!
//! Set `RUST_LOG` (e.g. `RUST_LOG=debug`) for the libraries' logs on stderr.

#[path = "support/logging.rs"]
mod logging;

use std::process::ExitCode;

use drydock::core::design::{self, Diagnostic, DiagnosticKind, Severity};
use drydock::core::validation::{self, Finding, ValidationContext};
use serde_json::json;

fn usage() -> ExitCode {
    eprintln!("usage: validate_design [--json] [--infos] PATH...");
    ExitCode::from(2)
}

fn message_json(d: &Diagnostic) -> serde_json::Value {
    let level = level_name(d.severity);
    json!({
        "code": d.kind.reference_code(),
        "rule": d.kind.id(),
        "level": level,
        "message": match &d.field {
            Some(f) => format!("{f}: {}", d.message),
            None => d.message.clone(),
        },
        "documents": d.document.iter().collect::<Vec<_>>(),
        "field": d.field,
        "location": d.location.as_ref().map(ToString::to_string),
    })
}

fn level_name(level: Severity) -> &'static str {
    match level {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// A validation finding in the same shape as an ingestion diagnostic: `code` carries the rule
/// id, `rule` the rule's name, `reference_code` the reference's DDxxxx code (if any).
fn finding_json(f: &Finding) -> serde_json::Value {
    json!({
        "code": f.rule.as_str(),
        "rule": f.rule.long_name(),
        "reference_code": f.rule.reference_code(),
        "level": level_name(f.level),
        "message": f.message,
        "diagnostic": f.diagnostic,
        "documents": f.documents,
        "field": f.field,
        "location": f.location.as_ref().map(ToString::to_string),
    })
}

fn main() -> ExitCode {
    logging::init();
    let mut json_out = false;
    let mut infos = false;
    let mut paths = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--json" => json_out = true,
            "--infos" => infos = true,
            "-h" | "--help" => {
                println!("usage: validate_design [--json] [--infos] PATH...");
                return ExitCode::SUCCESS;
            }
            s if s.starts_with('-') => return usage(),
            _ => paths.push(arg),
        }
    }
    if paths.is_empty() {
        return usage();
    }
    let (nodes, diagnostics, report) = match design::load(&paths) {
        Ok(d) => {
            let report = validation::validate(&d, &ValidationContext::default());
            (d.nodes.len(), d.warnings, Some(report))
        }
        Err(e) => (0, e.0, None),
    };
    // Rule findings other than the "Validation successful." infos.
    let findings: Vec<&Finding> = report
        .iter()
        .flat_map(|r| r.findings.iter())
        .filter(|f| f.level != Severity::Info)
        .collect();
    let errors = diagnostics.iter().filter(|d| d.is_error()).count()
        + findings.iter().filter(|f| f.is_error()).count();
    let warnings = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count()
        + findings
            .iter()
            .filter(|f| f.level == Severity::Warning)
            .count();
    let io = diagnostics.iter().any(|d| d.kind == DiagnosticKind::Io);
    if json_out {
        let messages: Vec<serde_json::Value> = diagnostics
            .iter()
            .map(message_json)
            .chain(findings.iter().map(|f| finding_json(f)))
            .collect();
        let out = json!({
            "status": if errors == 0 { "success" } else { "failure" },
            "nodes": nodes,
            "error_count": errors,
            "warning_count": warnings,
            "messages": messages,
        });
        println!("{out}");
    } else {
        let mut hidden = 0;
        for d in &diagnostics {
            if d.severity == Severity::Info && !infos {
                hidden += 1;
            } else {
                println!("{d}");
            }
        }
        if hidden > 0 {
            println!("{hidden} infos (fields kept as pass-through data; --infos lists them)");
        }
        for f in &findings {
            println!("{f}");
        }
        let verdict = if errors == 0 { "valid" } else { "INVALID" };
        println!("{verdict}: {nodes} nodes, {errors} errors, {warnings} warnings");
    }
    if io {
        ExitCode::from(2)
    } else if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
