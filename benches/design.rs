//! Ingest, compile and validation of generated sites (`drydock_core::testing::sites`: 100, 1,000
//! and 5,000 nodes). The Python Drydock takes 0.91 s for ingest + compile at 1,000 nodes on the
//! same kind of machine (`shared/README.md`), and 1.03 s / 5.73 s for ingest + compile + validate
//! at 1,000 / 5,000 nodes.
//!
//! `design/large_mapping/<keys>`: one node whose `kernel_params` and `owner_data` have that many
//! keys each (the duplicate-key check is linear: 100,000 kernel parameters took 15 s when it was
//! quadratic).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use drydock::core::design::{Source, compile, ingest_sources};

#[path = "common/sites.rs"]
mod sites;
use drydock::core::validation::{ValidationContext, validate};
use sites::site;

fn design(c: &mut Criterion) {
    let mut group = c.benchmark_group("design");
    group.sample_size(20);
    for n in [100, 1000, 5000] {
        let source = site(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("ingest", n), &source, |b, s| {
            b.iter(|| ingest_sources(std::slice::from_ref(s)).expect("valid site"))
        });
        group.bench_with_input(BenchmarkId::new("ingest_compile", n), &source, |b, s| {
            b.iter(|| {
                compile(ingest_sources(std::slice::from_ref(s)).expect("valid site"))
                    .expect("compiles")
            })
        });
        let compiled = compile(ingest_sources(std::slice::from_ref(&source)).expect("valid site"))
            .expect("compiles");
        let cx = ValidationContext::default();
        assert!(
            validate(&compiled, &cx).is_valid(),
            "site_{n} must be valid"
        );
        group.bench_with_input(BenchmarkId::new("validate", n), &compiled, |b, d| {
            b.iter(|| validate(d, &cx))
        });
        group.bench_with_input(
            BenchmarkId::new("ingest_compile_validate", n),
            &source,
            |b, s| {
                b.iter(|| {
                    let d = compile(ingest_sources(std::slice::from_ref(s)).expect("valid site"))
                        .expect("compiles");
                    validate(&d, &cx)
                })
            },
        );
    }
    group.finish();
}

/// One node with `n` kernel parameters and `n` labels.
fn large_node(n: usize) -> Source {
    let mut text = String::from(
        "schema: drydock/BaremetalNode/v1\nmetadata: {name: big}\ndata:\n  addressing:\n    - network: pxe\n      address: dhcp\n  platform:\n    kernel_params:\n",
    );
    for i in 0..n {
        text.push_str(&format!("      param_{i}: value_{i}\n"));
    }
    text.push_str("  metadata:\n    owner_data:\n");
    for i in 0..n {
        text.push_str(&format!("      key_{i}: value_{i}\n"));
    }
    Source::new("large.yaml", text)
}

fn large_mapping(c: &mut Criterion) {
    let mut group = c.benchmark_group("design");
    group.sample_size(10);
    for n in [10_000, 100_000] {
        let source = large_node(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("large_mapping", n), &source, |b, s| {
            b.iter(|| ingest_sources(std::slice::from_ref(s)).expect("valid node"))
        });
    }
    group.finish();
}

criterion_group!(benches, design, large_mapping);
criterion_main!(benches);
