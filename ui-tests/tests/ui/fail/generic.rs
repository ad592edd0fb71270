preheat::metadata!("tests/ui/meta/tasks");

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async fn timeout_close<T>(input: T) -> Result<(), String> {
    let _ = input;
    Ok(())
}

fn main() {}
