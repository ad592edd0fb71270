preheat::metadata!("tests/ui/meta/tasks");

use preheat::Ctx;

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async fn timeout_close(order_id: u64, ctx: Ctx) -> Result<(), String> {
    let _ = (order_id, ctx);
    Ok(())
}

fn main() {}
