// Known gap: the macro does not reject a borrowed input, so the compiler reports it inside the
// generated `Task` impl and suggests a lifetime on an impl block the user cannot see.

preheat::metadata!("tests/ui/meta/tasks");

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async fn timeout_close(reason: &str) -> Result<(), String> {
    let _ = reason;
    Ok(())
}

fn main() {}
