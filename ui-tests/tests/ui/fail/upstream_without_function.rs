// `stock.reserved` follows `order.created`, whose document is in this crate's metadata but whose
// function is missing: the crate can never run the flow.

preheat::metadata!("tests/ui/meta/flow_edges");

#[preheat::task("stock.reserved", metadata = "tests/ui/meta/flow_edges")]
async fn reserved(order_id: u64) -> Result<(), String> {
    let _ = order_id;
    Ok(())
}

fn main() {}
