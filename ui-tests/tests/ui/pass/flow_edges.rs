// Flow edges whose types agree: a task takes its one upstream task's output, and a fan-in takes
// the tuple of its upstream outputs in the order of `upstream`, here through a type alias.

preheat::metadata!("tests/ui/meta/flow_edges");

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Order {
    id: u64,
}

type Shipping = (Order, bool);

#[preheat::task("order.created", metadata = "tests/ui/meta/flow_edges")]
async fn created(id: u64) -> Result<Order, String> {
    Ok(Order { id })
}

mod payments {
    // In another module: the check goes through the crate root, not through names in scope.
    #[preheat::task("payment.checked", metadata = "tests/ui/meta/flow_edges")]
    pub(crate) async fn checked() -> Result<bool, String> {
        Ok(true)
    }
}

#[preheat::task("stock.reserved", metadata = "tests/ui/meta/flow_edges")]
async fn reserved(order: Order) -> Result<(), String> {
    let _ = order.id;
    Ok(())
}

#[preheat::task("order.shipped", metadata = "tests/ui/meta/flow_edges")]
async fn shipped(input: Shipping) -> Result<(), String> {
    let (_order, _paid) = input;
    Ok(())
}

fn main() {}
