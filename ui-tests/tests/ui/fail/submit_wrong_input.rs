preheat::metadata!("tests/ui/meta/tasks");

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct CloseUnpaid {
    order_id: u64,
}

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async fn timeout_close(input: CloseUnpaid) -> Result<(), String> {
    let _ = input.order_id;
    Ok(())
}

async fn on_checkout(rt: &preheat::Runtime, order_id: u64) {
    let _ = rt.submit(timeout_close, order_id).await;
}

fn main() {}
