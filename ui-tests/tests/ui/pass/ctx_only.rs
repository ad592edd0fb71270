// A task without input takes the context alone; `Ctx` is recognised by name, so it may be
// imported.

preheat::metadata!("tests/ui/meta/tasks");

use preheat::Ctx;

#[preheat::task("cache.warm", metadata = "tests/ui/meta/tasks")]
async fn warm(ctx: Ctx) -> Result<(), String> {
    let _ = ctx.task_id();
    Ok(())
}

fn main() {}
