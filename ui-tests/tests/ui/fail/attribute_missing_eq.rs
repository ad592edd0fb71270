preheat::metadata!("tests/ui/meta/tasks");

#[preheat::task("order.timeout_close", metadata "tests/ui/meta/tasks")]
async fn timeout_close() -> Result<(), String> {
    Ok(())
}

fn main() {}
