//! The main job end to end: a short run of the real binary, its report's `key=value` lines read
//! back. The invariants are checked inside the job against its database; here, that it says so.

use std::collections::HashMap;
use std::process::Command;

#[test]
fn a_short_run_keeps_every_invariant_and_reports_each_key() {
    let output = Command::new(env!("CARGO_BIN_EXE_shop"))
        .args(["--rate", "200", "--duration", "1s", "--pay-within", "300ms", "--campaign-users", "3000"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("the shop binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "exit {}\n{stdout}\n{}", output.status, String::from_utf8_lossy(&output.stderr));
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
fn a_bad_argument_is_refused_with_what_was_expected() {
    let output = Command::new(env!("CARGO_BIN_EXE_shop")).args(["--rate", "0"]).output().expect("the shop binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--rate") && stderr.contains("above 0"), "{stderr}");
}
