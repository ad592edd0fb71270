//! Measurements that need a process of their own: the binary runs itself again as a child.
//!
//! A binary calls [`child_role`] first thing in `main`; in a child it gets the role arguments,
//! measures, prints its result on stdout and returns. The parent calls [`run_child`] with a role
//! and parses what the child printed.

use std::process::Command;

/// The hidden first argument that marks a child run.
const CHILD_FLAG: &str = "--child";

/// The role arguments if this process is a child started by [`run_child`], else `None`.
pub fn child_role() -> Option<Vec<String>> {
    let mut args = std::env::args().skip(1);
    if args.next()? == CHILD_FLAG { Some(args.collect()) } else { None }
}

/// Runs this executable again as `exe --child <role...>`, waits for it, and returns its stdout
/// trimmed.
///
/// # Panics
///
/// If the child cannot be started or fails; the message carries the child's stderr.
pub fn run_child(role: &[&str]) -> String {
    let exe = std::env::current_exe().expect("the path of the running benchmark is readable");
    let output =
        Command::new(&exe).arg(CHILD_FLAG).args(role).output().unwrap_or_else(|error| {
            panic!("cannot start `{} {CHILD_FLAG} {}`: {error}", exe.display(), role.join(" "))
        });
    if !output.status.success() {
        panic!(
            "child `{CHILD_FLAG} {}` failed ({}): {}",
            role.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
