#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/does_not_exist")]
async fn timeout_close() -> Result<(), String> {
    Ok(())
}

fn main() {}
