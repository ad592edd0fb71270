// Known gap: a second `Ctx` is taken for the input, so the error asks to derive serde for `Ctx`.

preheat::metadata!("tests/ui/meta/tasks");

use preheat::Ctx;

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async fn timeout_close(ctx: Ctx, parent: Ctx) -> Result<(), String> {
    let _ = (ctx, parent);
    Ok(())
}

fn main() {}
