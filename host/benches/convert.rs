//! `cargo bench -p tombstone-host`: what a conversion costs, natively and through the plugin.
//!
//! Prints a table (per payload: bare JSON parse, native convert, native convert plus what the
//! plugin also does (parse the raw context, render the JSON), plugin convert on a warm
//! instance, plugin convert in a fresh instance per call as Spin does per request), then the
//! component's size and its first-call latency. Build the component first:
//! `cargo run --release -p xtask -- plugin`.

use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use tombstone_core::{convert, RawContext};
use tombstone_host::plugin::{find_component, Plugin};

/// Runs `f` repeatedly for about `budget`, timing each call; returns (p50, p99, mean) in µs.
fn measure(budget: Duration, mut f: impl FnMut()) -> (f64, f64, f64) {
    for _ in 0..50 {
        f(); // warm caches and allocators
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || samples.len() < 100 {
        let t = Instant::now();
        f();
        samples.push(t.elapsed());
    }
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let p = |q: f64| us(samples[((samples.len() - 1) as f64 * q) as usize]);
    let mean = us(samples.iter().sum::<Duration>()) / samples.len() as f64;
    (p(0.5), p(0.99), mean)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/payloads");
    let payloads = [
        ("Mercoa doc example", "mercoa/00-doc-example-verbatim.json"),
        (
            "WillSuite doc example",
            "willsuite/01-doc-example-verbatim.json",
        ),
        (
            "HighLevel doc example",
            "highlevel/01-webhook-doc-example-verbatim.json",
        ),
    ];
    let context = RawContext {
        organization_id: Some("acme-vet".into()),
        clinic_id: Some("clinic-1".into()),
        received_at: Some("2026-01-01T00:00:00Z".into()),
        ..RawContext::default()
    };
    let ctx = context.parse().expect("valid context");

    let component_path = find_component().unwrap_or_else(|e| panic!("{e:#}"));
    let component = std::fs::read(&component_path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&component).unwrap();
    let gzipped = gz.finish().unwrap().len();

    let load_start = Instant::now();
    let plugin = Plugin::from_bytes(&component).unwrap();
    let compile = load_start.elapsed();
    let first_payload = std::fs::read(root.join(payloads[0].1)).unwrap();
    let first_call_start = Instant::now();
    plugin.convert(&first_payload, &context).unwrap().unwrap();
    let first_call = first_call_start.elapsed();

    let budget = Duration::from_millis(
        std::env::var("BENCH_MILLIS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1500),
    );
    println!("| payload | bytes | what | p50 µs | p99 µs | mean µs | p50 vs parse |");
    println!("|---|---:|---|---:|---:|---:|---:|");
    for (name, file) in payloads {
        let bytes = std::fs::read(root.join(file)).unwrap();
        let mut warm = plugin.instance().unwrap();
        let rows: Vec<(&str, (f64, f64, f64))> = vec![
            (
                "serde_json → Value (parse only)",
                measure(budget, || {
                    black_box(
                        serde_json::from_slice::<serde_json::Value>(black_box(&bytes)).unwrap(),
                    );
                }),
            ),
            (
                "native core convert",
                measure(budget, || {
                    black_box(convert(black_box(&bytes), &ctx).unwrap());
                }),
            ),
            (
                "native, the plugin's whole job (context parse + convert + JSON)",
                measure(budget, || {
                    let ctx = context.parse().unwrap();
                    black_box(convert(black_box(&bytes), &ctx).unwrap().to_json());
                }),
            ),
            (
                "plugin convert, warm instance",
                measure(budget, || {
                    black_box(warm.convert(black_box(&bytes), &context).unwrap().unwrap());
                }),
            ),
            (
                "plugin convert, fresh instance per call",
                measure(budget, || {
                    black_box(
                        plugin
                            .convert(black_box(&bytes), &context)
                            .unwrap()
                            .unwrap(),
                    );
                }),
            ),
        ];
        let parse = rows[0].1 .0;
        for (what, (p50, p99, mean)) in rows {
            println!(
                "| {name} | {} | {what} | {p50:.1} | {p99:.1} | {mean:.1} | {:.2}× |",
                bytes.len(),
                p50 / parse
            );
        }
    }
    let (p50, p99, mean) = measure(budget, || {
        black_box(plugin.instance().unwrap());
    });
    println!("| — | — | instantiate only (fresh store + instance, no call) | {p50:.1} | {p99:.1} | {mean:.1} | |");
    let (p50, p99, mean) = measure(budget, || {
        black_box(plugin.instance().unwrap().schema("none").unwrap());
    });
    println!("| — | — | fresh instance + one trivial call | {p50:.1} | {p99:.1} | {mean:.1} | |");
    println!();
    println!(
        "component: {} ({} bytes, {} gzipped); compile once: {:.1} ms; first convert after compile: {:.1} µs",
        component_path.display(),
        component.len(),
        gzipped,
        compile.as_secs_f64() * 1e3,
        first_call.as_secs_f64() * 1e6
    );
}
