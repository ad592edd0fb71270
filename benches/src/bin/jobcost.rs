//! Runs a given number of detached no-op jobs and exits: the workload to count the job path's
//! instructions with callgrind, which the noisy shared machine cannot disturb.
//!
//! ```sh
//! cargo build --release -p preheat-benches --bin jobcost
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/jobcost 10000
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/jobcost 110000
//! ```
//!
//! The difference of the two totals (`Collected :` lines) divided by 100,000 is the instructions
//! one more job costs, start-up and shutdown cancelled out: submit, queue, worker and outcome,
//! with the producer and the workers on the same 2-thread runtime as in `throughput`. Compare two
//! commits by building both and counting both the same way.

use preheat::Runtime;
use preheat_benches::runner::in_runtime;
use preheat_benches::workload::{TALLY, noop};

fn main() {
    let tasks: u64 = match std::env::args().nth(1).map(|arg| arg.parse()) {
        Some(Ok(tasks)) => tasks,
        _ => {
            eprintln!("usage: jobcost <tasks>");
            std::process::exit(2);
        }
    };
    in_runtime(async move {
        let rt = Runtime::builder().start().await.unwrap_or_else(|error| panic!("cannot start preheat: {error}"));
        TALLY.expect(tasks);
        for _ in 0..tasks {
            rt.submit_detached(noop, ()).await.expect("the runtime accepts tasks");
        }
        TALLY.reached().await;
        rt.shutdown().await.expect("every no-op task finishes");
    });
}
