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
//! How a case finds its metadata: trybuild compiles each case as a binary of a generated
//! project under `target/tests/trybuild/`, so `CARGO_MANIFEST_DIR` is that project's and the
//! default `meta/` would not be found. The driver sets `PREHEAT_MANIFEST_DIR` to this crate's
//! directory, which the macros read in its place, so paths in cases are relative to
//! `ui-tests/`: a `#[task]` case says `metadata = "tests/ui/meta"` (ids shared by the cases) and a
//! `metadata!` case names its own fixture directory under `tests/ui/meta/`, beside the cases.
//!
//! The driver only runs on stable: compiler messages change between channels and releases, and
//! the snapshots follow the stable toolchain.

#[rustversion::attr(not(stable), ignore)]
#[test]
fn ui() {
    // SAFETY: set before trybuild starts any thread or child process, and this test binary runs
    // this one test (the only one in the file); the variable is read by the compilers trybuild
    // spawns, which inherit it.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("PREHEAT_MANIFEST_DIR", env!("CARGO_MANIFEST_DIR"));
    }
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
