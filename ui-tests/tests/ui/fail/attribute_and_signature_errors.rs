// Known gap: three mistakes (an unknown attribute argument, no `async`, a type parameter), but only
// the attribute's is reported: a malformed attribute stops the macro before the signature checks.

preheat::metadata!("tests/ui/meta/tasks");

#[preheat::task("order.timeout_close", meta = "tests/ui/meta/tasks")]
fn timeout_close<T>(input: T) -> Result<(), String> {
    let _ = input;
    Ok(())
}

fn main() {}
