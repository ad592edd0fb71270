#[preheat::task("Order.Timeout")]
async fn timeout() -> Result<(), String> {
    Ok(())
}

#[preheat::task("order timeout_close")]
async fn timeout_close() -> Result<(), String> {
    Ok(())
}

fn main() {}
