#[preheat::task(order)]
async fn timeout_close() -> Result<(), String> {
    Ok(())
}

fn main() {}
