//! Memory of reading, compiling and validating generated sites (`drydock_core::testing::sites`).
//!
//! For each site it prints the peak heap in use while the design is read, compiled and
//! validated, the heap the compiled design keeps afterwards, and allocations per node (counted
//! by [`dhat`]'s allocator), then the peak resident set of a process that only reads, compiles
//! and validates the site (`VmHWM`, measured in another process, without dhat's bookkeeping).
//! Run with `cargo bench --bench memory`; the figures do not depend on the machine's load. The
//! aim for 5,000 nodes is a peak resident set under 50 MiB.

use std::process::Command;

use drydock::core::design::{Source, compile, ingest_sources};

#[path = "common/sites.rs"]
mod sites;
use drydock::core::validation::{ValidationContext, validate};
use sites::site;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

const MIB: f64 = 1024.0 * 1024.0;
const SIZES: [usize; 3] = [100, 1000, 5000];
/// Set in the child process: the size to measure.
const CHILD: &str = "DRYDOCK_MEMORY_BENCH_NODES";

/// The process's peak resident set in KiB (`VmHWM` of `/proc/self/status`), where there is one.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Reads, compiles and validates `n` nodes.
fn run(source: &Source) -> drydock::core::design::CompiledDesign {
    let design = compile(ingest_sources(std::slice::from_ref(source)).expect("valid site"))
        .expect("compiles");
    let report = validate(&design, &ValidationContext::default());
    assert!(report.is_valid(), "{} must be valid", source.name);
    design
}

/// Measures one size (in a child process): `heap` prints the heap figures, `rss` the peak
/// resident set of a run without profiling.
fn measure(n: usize, what: &str) {
    let source = site(n);
    if what == "rss" {
        drop(run(&source));
        let rss = peak_rss_kib()
            .map_or_else(|| "n/a".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0));
        println!("  {rss:>7}");
        return;
    }
    let _profiler = dhat::Profiler::builder().testing().build();
    let before = dhat::HeapStats::get();
    let design = run(&source);
    let after = dhat::HeapStats::get();
    let kept = after.curr_bytes - before.curr_bytes;
    print!(
        "{n:>5}  {:>10.1}  {:>13.1}  {:>8.1}  {:>10}  {:>11}",
        source.text.len() as f64 / MIB,
        (after.max_bytes - before.curr_bytes) as f64 / MIB,
        kept as f64 / MIB,
        kept / n,
        (after.total_blocks - before.total_blocks) / n as u64,
    );
    drop(design);
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        let (n, what) = spec.split_once(':').expect("<nodes>:<heap|rss>");
        measure(n.parse().expect("a node count"), what);
        return;
    }
    // `cargo bench` passes `--bench`; other arguments select sizes (`-- 5000`).
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let me = std::env::current_exe().expect("the bench's own path");
    println!("nodes  source MiB  peak heap MiB  kept MiB  bytes/node  allocs/node  RSS MiB");
    for n in SIZES {
        if !filter.is_empty() && !filter.iter().any(|f| n.to_string().contains(f.as_str())) {
            continue;
        }
        for what in ["heap", "rss"] {
            let status = Command::new(&me)
                .env(CHILD, format!("{n}:{what}"))
                .status()
                .expect("run the measurement");
            assert!(status.success(), "measuring {n} nodes ({what}) failed");
        }
    }
}
