// A warmer: no arguments, `Result<_, E>` with `E: Display`; with and without its options.

#[preheat::warmup("db")]
async fn open_db() -> Result<(), std::io::Error> {
    Ok(())
}

#[preheat::warmup("payments_api", timeout = "2s", max_attempts = 5)]
pub async fn resolve_payments() -> Result<u32, String> {
    Ok(1)
}

fn main() {
    // The functions stay ordinary functions the application can call.
    let _ = open_db();
    let _ = resolve_payments();
}
