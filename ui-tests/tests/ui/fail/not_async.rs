#[preheat::task("order.timeout_close", metadata = "../meta")]
fn timeout_close() -> Result<(), String> {
    Ok(())
}

fn main() {}
