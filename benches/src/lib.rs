//! Benchmarks of preheat against baselines, run side by side in one process; see the binaries in
//! `src/bin/` and `BENCHMARKS.md` at the repository root.
//!
//! Every binary of this crate links this library, so the tasks (and their metadata in `meta/`)
//! live here once and every binary sees the same registry. (The `registry` binary adds the
//! fixture crates of `registry-fixtures/`: only it names them, so only it links them.) The modules
//! are the measuring instruments the binaries share.
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

pub mod fresh_process;
pub mod length;
pub mod raw_pool;
pub mod report;
pub mod runner;
pub mod samples;
pub mod workload;

preheat::metadata!("meta");
