// A task whose input is not its upstream task's output, and a fan-in whose tuple is in the
// wrong order: compile errors on the input types, where both ends are in one crate.

preheat::metadata!("tests/ui/meta/flow_edges");

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Order {
    id: u64,
}

#[preheat::task("order.created", metadata = "tests/ui/meta/flow_edges")]
async fn created(id: u64) -> Result<Order, String> {
    Ok(Order { id })
}

#[preheat::task("payment.checked", metadata = "tests/ui/meta/flow_edges")]
async fn checked() -> Result<bool, String> {
    Ok(true)
}

#[preheat::task("stock.reserved", metadata = "tests/ui/meta/flow_edges")]
async fn reserved(order_id: u64) -> Result<(), String> {
    let _ = order_id;
    Ok(())
}

#[preheat::task("order.shipped", metadata = "tests/ui/meta/flow_edges")]
async fn shipped(input: (bool, Order)) -> Result<(), String> {
    let _ = input;
    Ok(())
}

fn main() {}
