#[preheat::task("order.timeout_close")]
fn timeout_close() -> Result<(), String> {
    Ok(())
}

fn main() {}
