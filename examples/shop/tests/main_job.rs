//! The main job end to end: a short run of the real binary, its report's `key=value` lines read
//! back. The invariants are checked inside the job against its database; here, that it says so.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Output};

/// The short run both modes make: 200 orders.
const SHORT_RUN: [&str; 8] = ["--rate", "200", "--duration", "1s", "--pay-within", "300ms", "--campaign-users", "3000"];

/// Runs the binary with `args`, asserts it succeeded, and returns its stdout.
fn run_shop(args: &[&str]) -> String {
    let Output { status, stdout, stderr } = Command::new(env!("CARGO_BIN_EXE_shop"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the shop binary runs");
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    assert!(status.success(), "exit {status}\n{stdout}\n{}", String::from_utf8_lossy(&stderr));
    stdout
}

/// Checks the report's `key=value` lines of a short run.
fn assert_every_invariant_and_key(stdout: &str) {
    let keys: HashMap<&str, &str> = stdout.lines().filter_map(|line| line.split_once('=')).collect();
    for invariant in ["oversold", "overdue_open", "duplicate_coupons"] {
        assert_eq!(keys.get(invariant), Some(&"0"), "{invariant}\n{stdout}");
    }
    // 200 orders, five tasks each, plus schedule ticks and two campaign runs.
    let tasks_run: u64 = keys["tasks_run"].parse().expect("a count");
    assert!(tasks_run >= 1000, "{stdout}");
    let worst: f64 = keys["worst_first_vs_steady"].parse().expect("a ratio");
    assert!(worst > 0.0, "{stdout}");
    assert!(stdout.contains("warmup:db"), "the start-up phases are reported\n{stdout}");
}

#[test]
fn a_short_run_keeps_every_invariant_and_reports_each_key() {
    let stdout = run_shop(&SHORT_RUN);
    assert_every_invariant_and_key(&stdout);
}

#[test]
fn a_short_run_on_postgres_with_two_workers_keeps_every_invariant() {
    let Ok(url) = std::env::var("PREHEAT_DATABASE_URL") else {
        // Straight to stderr: the test harness captures `eprintln!` of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED a_short_run_on_postgres_with_two_workers_keeps_every_invariant: PREHEAT_DATABASE_URL is not set"
        );
        return;
    };
    // A schema of its own: the main job's default `shop` may be in use at the same time.
    let mut args = vec!["--database-url", &url, "--schema", "shop_test_main_job"];
    args.extend(SHORT_RUN);
    let stdout = run_shop(&args);
    assert_every_invariant_and_key(&stdout);
    for worker in ["worker 1", "worker 2"] {
        assert!(stdout.contains(worker), "each worker's start and run times are reported\n{stdout}");
    }
    assert!(stdout.contains("shutdown: both workers drained and exited"), "{stdout}");
}

#[test]
fn a_schema_that_is_not_the_jobs_own_is_refused_before_anything_is_dropped() {
    let output = Command::new(env!("CARGO_BIN_EXE_shop"))
        .args(["--database-url", "postgres://nobody@127.0.0.1:1/none", "--schema", "public"])
        .output()
        .expect("the shop binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--schema") && stderr.contains("not this job's to drop"), "{stderr}");
}

#[test]
fn a_bad_argument_is_refused_with_what_was_expected() {
    let output = Command::new(env!("CARGO_BIN_EXE_shop")).args(["--rate", "0"]).output().expect("the shop binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--rate") && stderr.contains("above 0"), "{stderr}");
}
