// Known gap: the error is right, but spanned on the attribute rather than the `where` clause.

preheat::metadata!("tests/ui/meta/tasks");

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async fn timeout_close() -> Result<(), String>
where
    String: Clone,
{
    Ok(())
}

fn main() {}
