preheat::metadata!("tests/ui/meta/tasks");

#[preheat::task("order.timeout_clos", metadata = "tests/ui/meta/tasks")]
fn timeout_close(order_id: u64) {
    let _ = order_id;
}

fn main() {}
