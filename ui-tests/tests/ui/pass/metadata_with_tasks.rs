// A crate's usual setup: `metadata!` embeds the directory and each `#[task]` finds its document
// in the same one.

preheat::metadata!("tests/ui/meta/metadata_with_tasks");

#[preheat::task("order.created", metadata = "tests/ui/meta/metadata_with_tasks")]
async fn order_created(order_id: u64) -> Result<u64, String> {
    Ok(order_id)
}

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/metadata_with_tasks")]
async fn timeout_close(ctx: preheat::Ctx, order_id: u64) -> Result<(), String> {
    let _ = (ctx.attempt(), order_id);
    Ok(())
}

fn main() {}
