//! Measurements that need a process of their own: the binary runs itself again as a child.
//!
//! A binary calls [`child_role`] first thing in `main`; in a child it gets the role arguments,
//! measures, prints its result on stdout and returns. The parent calls [`run_child`] with a role
//! and parses what the child printed, or [`run_child_numbers`] when the child prints numbers.
//! The `_since` variants also return the wall-clock time just before the child was spawned, for
//! a child that reports wall-clock instants of its own.

use std::process::Command;
use std::time::SystemTime;

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
    run_child_since(role).1
}

/// Like [`run_child`], and also returns the wall-clock time ([`SystemTime`], the realtime clock
/// every process reads alike) taken just before the child is spawned, so that the parent can
/// subtract it from an instant the child reports.
///
/// # Panics
///
/// As [`run_child`].
pub fn run_child_since(role: &[&str]) -> (SystemTime, String) {
    let exe = std::env::current_exe().expect("the path of the running benchmark is readable");
    let mut command = Command::new(&exe);
    command.arg(CHILD_FLAG).args(role);
    let spawned = SystemTime::now();
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot start `{} {CHILD_FLAG} {}`: {error}", exe.display(), role.join(" ")));
    if !output.status.success() {
        panic!(
            "child `{CHILD_FLAG} {}` failed ({}): {}",
            role.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    (spawned, String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Runs this executable as a child (see [`run_child`]) that prints `N` numbers separated by
/// spaces, and returns them.
///
/// # Panics
///
/// If the child fails, or prints anything but `N` numbers.
pub fn run_child_numbers<const N: usize>(role: &[&str]) -> [f64; N] {
    run_child_numbers_since(role).1
}

/// Like [`run_child_numbers`], and also returns the time just before the child was spawned (see
/// [`run_child_since`]).
///
/// # Panics
///
/// As [`run_child_numbers`].
pub fn run_child_numbers_since<const N: usize>(role: &[&str]) -> (SystemTime, [f64; N]) {
    let (spawned, line) = run_child_since(role);
    let numbers =
        numbers(&line).unwrap_or_else(|| panic!("child `{}` printed {line:?}, expected {N} number(s)", role.join(" ")));
    (spawned, numbers)
}

/// Exactly `N` numbers separated by spaces, or `None`.
fn numbers<const N: usize>(line: &str) -> Option<[f64; N]> {
    let parsed: Vec<f64> = line.split(' ').map(str::parse).collect::<Result<_, _>>().ok()?;
    parsed.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_line_is_exactly_n_numbers() {
        assert_eq!(numbers::<2>("1.5 30"), Some([1.5, 30.0]));
        assert_eq!(numbers::<1>("1.5 30"), None);
        assert_eq!(numbers::<2>("1.5 warm"), None);
    }
}
