//! Criterion benchmarks of the engine's stages on a synthetic dataset: ingest, the engine pass, the top-path
//! pass, path search, and report writing. End-to-end CLI timings at 1M and 10M shipments are `benches/run.sh`.
//!
//! Run: `cargo bench --bench engine` (set `OT_BENCH_SHIPMENTS` to change the dataset size, default 20000).

use criterion::{Criterion, criterion_group, criterion_main};
use origintrace::data::dataset::{DataSource, load};
use origintrace::data::settings::Settings;
use origintrace::engine::analysis::Analysis;
use origintrace::engine::model::Engine;
use origintrace::engine::paths::Limits;
use origintrace::engine::screening::screen;
use origintrace::present::{Csv, Render, Table};
use origintrace::query::report;
use std::hint::black_box;

fn dataset() -> (std::path::PathBuf, Settings) {
    let n: usize = std::env::var("OT_BENCH_SHIPMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = std::env::temp_dir().join(format!("origintrace-bench-{n}"));
    if !dir.join("shipments.csv").exists() {
        origintrace::data::synth::generate(
            &origintrace::data::synth::SynthSpec {
                shipments: n,
                seed: 1,
            },
            &dir,
        )
        .expect("synth");
    }
    let text = std::fs::read_to_string(dir.join("origintrace.toml")).expect("settings");
    let st = Settings::default()
        .overlay_str(&text, "synth")
        .expect("settings");
    (dir, st)
}

fn benches(c: &mut Criterion) {
    let (dir, st) = dataset();
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    g.bench_function("ingest", |b| {
        b.iter(|| black_box(load(&[DataSource::Dir(dir.clone())]).expect("load")))
    });
    let ds = load(&[DataSource::Dir(dir.clone())]).expect("load");
    g.bench_function("engine_pass", |b| {
        b.iter(|| {
            black_box(
                Engine::run(&ds, &st, screen(&ds, st.match_threshold))
                    .outcomes
                    .len(),
            )
        })
    });
    // What a report from CSV files runs: both passes, day by day, each output decomposed once.
    g.bench_function("engine_and_top_path_pass", |b| {
        b.iter(|| {
            black_box(
                origintrace::engine::toppath::run(
                    &ds,
                    &st,
                    screen(&ds, st.match_threshold),
                    Limits::default().max_hops,
                )
                .1
                .chains
                .len(),
            )
        })
    });
    let a = Analysis::new(&ds, &st, Limits::default());
    // The top-path pass on its own, as a report from a snapshot runs it.
    g.bench_function("top_path_pass", |b| {
        b.iter(|| {
            black_box(
                origintrace::engine::toppath::TopPaths::compute(
                    &a.engine,
                    Limits::default().max_hops,
                )
                .chains
                .len(),
            )
        })
    });
    let exposed: Vec<u32> = (0..a.engine.outcomes.len() as u32)
        .filter(|k| a.engine.outcome(*k).mix.sanctioned() > 0.0)
        .take(200)
        .collect();
    g.bench_function("path_search_200_outputs", |b| {
        b.iter(|| {
            exposed
                .iter()
                .map(|k| a.engine.paths_of_key(*k, Limits::default()).paths.len())
                .sum::<usize>()
        })
    });
    let scored = a.score_all();
    let r = report::build(
        &a,
        scored,
        report::Filter {
            flagged_only: false,
            min_severity: origintrace::engine::rules::Severity::None,
        },
    );
    g.bench_function("report_csv", |b| {
        b.iter(|| {
            black_box(
                Csv {
                    table: Table::Shipments,
                }
                .to_bytes(&r)
                .expect("csv")
                .len(),
            )
        })
    });
    g.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
