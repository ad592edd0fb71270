// The macro rejects the function but still emits it: the caller below compiles, so the only
// error is the macro's.

preheat::metadata!("tests/ui/meta/tasks");

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
fn timeout_close(order_id: u64) -> Result<u64, String> {
    Ok(order_id)
}

#[allow(dead_code)]
fn caller() -> Result<u64, String> {
    timeout_close(7)
}

fn main() {}
