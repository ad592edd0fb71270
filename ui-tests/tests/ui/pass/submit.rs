// `Runtime::submit` takes the handle and its input type; this only type-checks the call.

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

#[allow(dead_code)]
async fn on_checkout(rt: &preheat::Runtime, order_id: u64) {
    let submitted: Result<preheat::Completion<timeout_close>, preheat::SubmitError<CloseUnpaid>> =
        rt.submit(timeout_close, CloseUnpaid { order_id }).await;
    let _ = submitted;
}

fn main() {}
