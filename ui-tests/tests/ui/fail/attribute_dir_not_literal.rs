#[preheat::task("order.timeout_close", metadata = tasks)]
async fn timeout_close() -> Result<(), String> {
    Ok(())
}

fn main() {}
