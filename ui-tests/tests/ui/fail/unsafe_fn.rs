// Known gap: `unsafe` is not checked by the macro; the error points at the attribute, where the
// generated code calls the function.

preheat::metadata!("tests/ui/meta/tasks");

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async unsafe fn timeout_close() -> Result<(), String> {
    Ok(())
}

fn main() {}
