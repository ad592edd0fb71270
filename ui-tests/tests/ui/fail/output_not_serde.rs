preheat::metadata!("tests/ui/meta/tasks");

struct Closed {
    refunded: bool,
}

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async fn timeout_close() -> Result<Closed, String> {
    Ok(Closed { refunded: true })
}

fn main() {}
