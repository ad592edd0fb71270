// An unknown option names the ones there are.

#[preheat::warmup("db", retries = 3)]
async fn open_db() -> Result<(), String> {
    Ok(())
}

fn main() {}
