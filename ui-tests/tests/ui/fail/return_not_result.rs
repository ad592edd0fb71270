preheat::metadata!("tests/ui/meta/tasks");

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async fn timeout_close(order_id: u64) -> u32 {
    order_id as u32
}

fn main() {}
