//! Compile tests of `#[preheat::task]`.
//!
//! Each file under `tests/ui/` is a small crate of its own with `fn main() {}`:
//!
//! - `tests/ui/pass/*.rs` must compile and run. Main stays empty: a pass case shows that a
//!   signature is accepted and that the generated handle type-checks where users will use it.
//! - `tests/ui/fail/*.rs` must fail to compile with exactly the diagnostics in the `.stderr`
//!   file next to it. The snapshots are committed and reviewed like code: a message a newcomer
//!   cannot act on, or one that points inside generated code, is a bug in the macro.
//!
//! To add a case or update the snapshots after changing a message, run
//!
//! ```text
//! TRYBUILD=overwrite cargo test -p preheat-ui-tests
//! ```
//!
//! then read every diff under `tests/ui/fail/` before committing it.
//!
//! The cases need no metadata YAML (no `preheat::metadata!`): `#[task]` does not read metadata at
//! compile time yet, and a pass case runs an empty `main`, which never builds the registry, so
//! the missing metadata is never noticed.
//!
//! The driver only runs on stable: compiler messages change between channels and releases, and
//! the snapshots follow the stable toolchain.

#[rustversion::attr(not(stable), ignore)]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
