// The full form: the context first, then the input.

preheat::metadata!("tests/ui/meta/tasks");

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct CloseUnpaid {
    order_id: u64,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Closed {
    refunded: bool,
}

#[derive(Debug)]
struct CloseError;

impl std::fmt::Display for CloseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("order could not be closed")
    }
}

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async fn timeout_close(ctx: preheat::Ctx, input: CloseUnpaid) -> Result<Closed, CloseError> {
    let _ = (ctx.attempt(), input.order_id);
    Ok(Closed { refunded: false })
}

fn main() {}
