//! A database the `db` warmer cannot open keeps the runtime from starting, with an error that
//! names the resource and the file. (Its own process: the tasks' database is process-wide.)

use preheat::{Runtime, StartError};

#[tokio::test]
async fn a_database_that_cannot_be_opened_fails_the_start_naming_db_and_the_file() {
    let directory = tempfile::tempdir().unwrap();
    let missing = directory.path().join("no-such-directory").join("shop.db");
    shop_tasks::use_database(&missing).unwrap();
    let error = Runtime::builder().start().await.expect_err("the database cannot be opened");
    assert!(matches!(error, StartError::Warmup { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("`db`"), "{message}");
    assert!(message.contains(&missing.display().to_string()), "{message}");
    // Asking for another database now is refused rather than silently ignored.
    let other = shop_tasks::use_database(std::env::temp_dir().join("other.db")).unwrap_err();
    assert!(other.to_string().contains("cannot switch"), "{other}");
}
