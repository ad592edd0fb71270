// Known gap: `impl Trait` makes the function generic, but the generic check only looks at the
// `<...>` list, so the errors come from the generated `Task` impl.

preheat::metadata!("tests/ui/meta/tasks");

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async fn timeout_close(input: impl serde::Serialize + Clone) -> Result<(), String> {
    let _ = input;
    Ok(())
}

fn main() {}
