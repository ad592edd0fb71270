preheat::metadata!("tests/ui/meta/tasks");

struct Orders;

impl Orders {
    #[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
    async fn timeout_close(&self) -> Result<(), String> {
        Ok(())
    }
}

fn main() {}
