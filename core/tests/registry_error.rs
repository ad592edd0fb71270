//! A binary whose tasks and metadata do not match in ways no single macro can see: `start` must
//! refuse to run and say why, naming every problem at once.

use preheat::{Problem, Registry, Runtime, StartError};

preheat::metadata!("tests/meta/orphan");
// A second embedding of the same directory is a mistake the registry reports, not a duplicate
// of each of its documents.
mod again {
    preheat::metadata!("tests/meta/orphan");
}

// Two functions, each checked alone by `#[task]` and each finding its document.
mod first {
    #[preheat::task("claimed.twice", metadata = "tests/meta/orphan")]
    async fn claimed() -> Result<(), String> {
        Ok(())
    }
}

mod second {
    #[preheat::task("claimed.twice", metadata = "tests/meta/orphan")]
    async fn claimed() -> Result<(), String> {
        Ok(())
    }
}

#[tokio::test]
async fn start_reports_every_registry_problem() {
    let Err(StartError::Registry(error)) = Runtime::builder().start().await else {
        panic!("a mismatched registry must not start");
    };
    let message = error.to_string();
    assert!(message.starts_with("the task registry has 3 problem(s):"), "{message}");
    assert!(message.contains("crate `preheat` embeds its metadata directory `tests/meta/orphan` twice"), "{message}");
    assert!(
        message.contains("task `claimed.twice` is defined twice, at core/tests/registry_error.rs:")
            && message.contains("give each function its own id"),
        "{message}"
    );
    assert!(
        message.contains(
            "preheat/tests/meta/orphan/lonely.yaml: task `lonely.meta` has metadata but no `#[task(\"lonely.meta\")]` function"
        ),
        "{message}"
    );
    assert!(matches!(error.problems()[0], Problem::MetadataEmbeddedTwice { .. }));
    assert!(std::ptr::eq(error, Registry::global().unwrap_err()), "built once, then shared");
}
