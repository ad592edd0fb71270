//! A binary whose tasks and metadata do not match in ways no single macro can see: `start` must
//! refuse to run and say why, naming every problem at once.

use preheat::{Problem, Registry, Runtime, StartError};

preheat::metadata!("tests/meta/orphan");

// A task in the directory, so the crate is linked (the registry reports the document without a
// function, not a dropped crate), and it needs a resource no `#[warmup]` warms. (A duplicate id, or the directory embedded twice, no
// longer builds within one crate: ui-tests `fail/duplicate_task_id.rs`; the registry's unit
// tests cover both across crates.)
#[preheat::task("claimed.once", metadata = "tests/meta/orphan")]
async fn claimed() -> Result<(), String> {
    Ok(())
}

#[tokio::test]
async fn start_reports_every_registry_problem() {
    let Err(StartError::Registry(error)) = Runtime::builder().start().await else {
        panic!("a mismatched registry must not start");
    };
    let message = error.to_string();
    assert!(message.starts_with("the task registry has 2 problem(s):"), "{message}");
    assert!(
        message.contains("task `claimed.once` needs resource `cache` (`resources:`), but no `#[warmup(\"cache\")]`"),
        "{message}"
    );
    assert!(
        message.contains(
            "preheat/tests/meta/orphan/lonely.yaml: task `lonely.meta` has metadata but no `#[task(\"lonely.meta\")]` function"
        ),
        "{message}"
    );
    assert!(error.problems().iter().any(|problem| matches!(problem, Problem::MissingHandler { .. })));
    assert!(std::ptr::eq(error, Registry::global().unwrap_err()), "built once, then shared");
}
