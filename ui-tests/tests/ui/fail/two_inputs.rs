preheat::metadata!("tests/ui/meta/tasks");

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async fn timeout_close(order_id: u64, reason: String) -> Result<(), String> {
    let _ = (order_id, reason);
    Ok(())
}

fn main() {}
