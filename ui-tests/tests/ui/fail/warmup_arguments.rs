// The resource name and the options are checked: a name with capitals, a duration without a unit,
// zero attempts.

#[preheat::warmup("Payments API", timeout = "5", max_attempts = 0)]
async fn payments() -> Result<(), String> {
    Ok(())
}

fn main() {}
