preheat::metadata!("tests/ui/meta/tasks");

#[derive(Clone)]
struct CloseUnpaid {
    order_id: u64,
}

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async fn timeout_close(input: CloseUnpaid) -> Result<(), String> {
    let _ = input.order_id;
    Ok(())
}

fn main() {}
