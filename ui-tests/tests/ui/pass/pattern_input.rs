// Arguments are patterns, as in any function: the input may be destructured or bound `mut`.

preheat::metadata!("tests/ui/meta/tasks");

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct CloseUnpaid {
    order_id: u64,
    reason: String,
}

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async fn timeout_close(ctx: preheat::Ctx, CloseUnpaid { order_id, .. }: CloseUnpaid) -> Result<u64, String> {
    let _ = ctx;
    Ok(order_id)
}

#[preheat::task("search.reindex", metadata = "tests/ui/meta/tasks")]
async fn reindex(mut product_ids: Vec<u64>) -> Result<usize, String> {
    product_ids.dedup();
    Ok(product_ids.len())
}

fn main() {}
