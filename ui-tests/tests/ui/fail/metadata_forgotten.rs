// A crate with a task and no `preheat::metadata!` call: the task names the marker type that
// `metadata!("tests/ui/meta/tasks")` would define at the crate root, and does not find it.

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async fn timeout_close() -> Result<(), String> {
    Ok(())
}

fn main() {}
