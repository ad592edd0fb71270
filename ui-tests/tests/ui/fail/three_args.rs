preheat::metadata!("tests/ui/meta/tasks");

use preheat::Ctx;

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async fn timeout_close(ctx: Ctx, order_id: u64, reason: String) -> Result<(), String> {
    let _ = (ctx, order_id, reason);
    Ok(())
}

fn main() {}
