preheat::metadata!("tests/ui/meta/tasks");

#[preheat::task("", metadata = "tests/ui/meta/tasks")]
async fn timeout_close() -> Result<(), String> {
    Ok(())
}

fn main() {}
