//! Reads, compiles and checks a site design.
//!
//! ```text
//! cargo run --release --example validate_design -- [--json] PATH...
//! ```
//!
//! PATHs are files or directories (walked for `*.yaml`/`*.yml`). Exit status: 0 for a valid
//! design, 1 for an invalid one, 2 for usage or I/O errors.

use std::process::ExitCode;

use drydock::core::design::{self, Diagnostic, DiagnosticKind, Severity};
use serde_json::json;

fn usage() -> ExitCode {
    eprintln!("usage: validate_design [--json] PATH...");
    ExitCode::from(2)
}

fn message_json(d: &Diagnostic) -> serde_json::Value {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    };
    json!({
        "code": d.kind.reference_code(),
        "rule": d.kind.id(),
        "level": level,
        "message": match &d.field {
            Some(f) => format!("{f}: {}", d.message),
            None => d.message.clone(),
        },
        "documents": d.document.iter().collect::<Vec<_>>(),
        "location": d.location.as_ref().map(ToString::to_string),
    })
}

fn main() -> ExitCode {
    let mut json_out = false;
    let mut paths = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--json" => json_out = true,
            "-h" | "--help" => return usage(),
            s if s.starts_with('-') => return usage(),
            _ => paths.push(arg),
        }
    }
    if paths.is_empty() {
        return usage();
    }
    let (nodes, diagnostics) = match design::load(&paths) {
        Ok(d) => (d.nodes.len(), d.warnings),
        Err(e) => (0, e.0),
    };
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    let io = diagnostics.iter().any(|d| d.kind == DiagnosticKind::Io);
    if json_out {
        let out = json!({
            "status": if errors == 0 { "success" } else { "failure" },
            "nodes": nodes,
            "error_count": errors,
            "warning_count": warnings,
            "messages": diagnostics.iter().map(message_json).collect::<Vec<_>>(),
        });
        println!("{out}");
    } else {
        for d in &diagnostics {
            println!("{d}");
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
