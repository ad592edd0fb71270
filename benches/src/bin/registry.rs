//! Registry build time at start-up for 10, 100 and 1,000 tasks, beside a plain `serde_yaml` parse
//! of the same YAML documents, in one run.
//!
//! Run with `cargo run --release -p preheat-benches --bin registry`.
//!
//! The tasks are the fixture crates `registry-fixture-{10,100,1000}` (`benches/registry-fixtures/`):
//! no-op `#[task]` functions, each with one document in its crate's `meta/`, embedded by
//! `metadata!`. This binary is the only one that names them, so only its registry has them.
//!
//! Start-up cost is a first call in a fresh process, so every figure comes from a child process
//! (the binary runs itself, see [`fresh_process`](preheat_benches::fresh_process)) that measures
//! one thing first thing in `main`:
//!
//! - **build N**: `Registry::__of_crates(&["registry-fixture-N"])`, the build `Registry::global`
//!   runs, over that crate's linked tasks and metadata only;
//! - **parse N**: what the runtime would do if it parsed the YAML at start-up: every `.yaml` file
//!   of that crate's embedded directory (`preheat::__private::METADATA`, the `include_dir` copy),
//!   each file's documents read with `serde_yaml::Deserializer::from_str` into `TaskMeta`s;
//! - **global**: the first `Registry::global()`, every task linked into this binary.
//!
//! [`FRESH_RUNS`] rounds, each starting one child per contender and size, interleaved, so noise
//! hits all of them alike; medians reported, and the 90th percentile of the build. After its
//! first call each child repeats the same work [`WARM_REPEATS`] times and reports the median of
//! those too: the difference between first and warm is what cold caches and page faults cost,
//! the warm figure is the work itself.
//!
//! Before the children, this process checks that the two sides agree: the parsed documents are
//! the registry's metadata, field for field.
//!
//! The run ends with `key=value` lines (see [`Report`]).

use std::time::Instant;

use preheat::Registry;
use preheat::meta::TaskMeta;
use preheat_benches::fresh_process::{child_role, run_child_numbers};
use preheat_benches::report::Report;
use preheat_benches::samples::Samples;
use serde::Deserialize;

// Link the fixtures: a crate nothing names is left out, with its tasks and metadata.
use registry_fixture_10 as _;
use registry_fixture_100 as _;
use registry_fixture_1000 as _;

/// Task counts of the fixture crates, `registry-fixture-{size}`.
const SIZES: [usize; 3] = [10, 100, 1000];
/// Fresh processes per contender and size.
const FRESH_RUNS: usize = 51;
/// Repetitions after the first call, in each child.
const WARM_REPEATS: usize = 21;

fn main() {
    if let Some(role) = child_role() {
        let role: Vec<&str> = role.iter().map(String::as_str).collect();
        let (first, warm) = match role.as_slice() {
            ["build", size] => {
                let name = fixture(size);
                timed(|| build(&name))
            }
            ["parse", size] => {
                let name = fixture(size);
                timed(|| parse(&name))
            }
            // Only the first call builds; the warm figure is the cached look-up, and not reported.
            ["global"] => timed(|| Registry::global().unwrap_or_else(|error| panic!("{error}")).tasks().len()),
            _ => panic!("unknown child role {role:?}; expected `build N`, `parse N` or `global`"),
        };
        println!("{first} {warm}");
        return;
    }

    for size in SIZES {
        check_agreement(&fixture(&size.to_string()), size);
    }
    let global_tasks = Registry::global().unwrap_or_else(|error| panic!("{error}")).tasks().len();

    let mut rows: Vec<Row> = SIZES.iter().map(|_| Row::default()).collect();
    let mut global = Vec::new();
    for _ in 0..FRESH_RUNS {
        for (size, row) in SIZES.iter().zip(&mut rows) {
            let size = size.to_string();
            row.add(child(&["build", &size]), child(&["parse", &size]));
        }
        global.push(child(&["global"]).0);
    }

    println!(
        "registry build at start-up ({FRESH_RUNS} fresh processes per cell, interleaved; µs; medians, except p90)"
    );
    println!("  tasks      build  build p90   yaml parse  parse/build  |  warm: build   yaml parse");
    let mut report = Report::new();
    for (size, row) in SIZES.iter().zip(rows) {
        let [build, parse, build_warm, parse_warm] = row.samples();
        let p90 = build.percentile(90.0);
        let [build, parse, build_warm, parse_warm] = [build, parse, build_warm, parse_warm].map(|s| s.median());
        println!(
            "  {size:>5} {build:>10.1} {p90:>10.1} {parse:>12.1} {:>12.1}  | {build_warm:>12.1} {parse_warm:>12.1}",
            parse / build
        );
        report.add(&format!("build_{size}_us"), format!("{build:.1}"));
        report.add(&format!("build_{size}_p90_us"), format!("{p90:.1}"));
        report.add(&format!("yaml_parse_{size}_us"), format!("{parse:.1}"));
        report.add(&format!("parse_vs_build_{size}"), format!("{:.1}", parse / build));
        report.add(&format!("build_{size}_warm_us"), format!("{build_warm:.1}"));
        report.add(&format!("yaml_parse_{size}_warm_us"), format!("{parse_warm:.1}"));
    }
    let global = Samples::new(global).median();
    println!("  Registry::global() of this binary, all {global_tasks} tasks: {global:.1} µs");
    report.add("global_tasks", global_tasks);
    report.add("global_us", format!("{global:.1}"));
    println!();
    report.print();
}

/// The name of the fixture crate with `size` tasks.
fn fixture(size: &str) -> String {
    format!("registry-fixture-{size}")
}

/// The registry of one fixture crate.
fn build(crate_name: &str) -> Registry {
    Registry::__of_crates(&[crate_name]).unwrap_or_else(|error| panic!("{error}"))
}

/// Every document of the crate's embedded YAML files, parsed with serde_yaml and nothing else.
fn parse(crate_name: &str) -> Vec<TaskMeta> {
    let embedded = preheat::__private::METADATA
        .iter()
        .find(|dir| dir.crate_name == crate_name)
        .unwrap_or_else(|| panic!("crate `{crate_name}` embeds no metadata in this binary"));
    let mut metas = Vec::new();
    let mut dirs = vec![&embedded.dir];
    while let Some(dir) = dirs.pop() {
        dirs.extend(dir.dirs());
        for file in dir.files().filter(|file| file.path().extension().is_some_and(|ext| ext == "yaml")) {
            let text = file.contents_utf8().expect("metadata files are UTF-8");
            for document in serde_yaml::Deserializer::from_str(text) {
                metas.push(TaskMeta::deserialize(document).expect("the fixture YAML is valid"));
            }
        }
    }
    metas
}

/// Times the first call of `work` in this process, then the median of [`WARM_REPEATS`] more, in
/// microseconds. What `work` returns is dropped after the clock stops: at start-up it would be
/// kept.
fn timed<T>(mut work: impl FnMut() -> T) -> (f64, f64) {
    let mut once = || {
        let start = Instant::now();
        let kept = std::hint::black_box(work());
        let elapsed = start.elapsed().as_secs_f64() * 1e6;
        drop(kept);
        elapsed
    };
    let first = once();
    let warm = Samples::new((0..WARM_REPEATS).map(|_| once()).collect());
    (first, warm.median())
}

/// Runs a child and parses its `first warm` line.
fn child(role: &[&str]) -> (f64, f64) {
    let [first, warm] = run_child_numbers(role);
    (first, warm)
}

/// Asserts that the YAML parse and the registry see the same `size` documents.
fn check_agreement(crate_name: &str, size: usize) {
    let mut parsed = parse(crate_name);
    let registry = build(crate_name);
    let mut built: Vec<&TaskMeta> = registry.tasks().iter().map(|task| task.meta()).collect();
    parsed.sort_by(|a, b| a.id.cmp(&b.id));
    built.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(parsed.len(), size, "{crate_name}: documents parsed");
    assert!(parsed.iter().eq(built), "{crate_name}: the parsed YAML differs from the registry's metadata");
}

/// One size's measurements, one of each per round.
#[derive(Default)]
struct Row {
    build: Vec<f64>,
    parse: Vec<f64>,
    build_warm: Vec<f64>,
    parse_warm: Vec<f64>,
}

impl Row {
    /// Adds one round's `(first, warm)` of the build and of the parse.
    fn add(&mut self, build: (f64, f64), parse: (f64, f64)) {
        self.build.push(build.0);
        self.build_warm.push(build.1);
        self.parse.push(parse.0);
        self.parse_warm.push(parse.1);
    }

    /// Build first, parse first, build warm, parse warm.
    fn samples(self) -> [Samples; 4] {
        [self.build, self.parse, self.build_warm, self.parse_warm].map(Samples::new)
    }
}
