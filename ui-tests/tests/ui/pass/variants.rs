// Every variant with a function of the same signature, the first without `variant = ...`,
// submitted through either handle.
#![deny(warnings)]

preheat::metadata!("tests/ui/meta/variants");

#[preheat::task("stock.reserve", metadata = "tests/ui/meta/variants")]
async fn reserve(order: u64) -> Result<bool, String> {
    Ok(order > 0)
}

#[preheat::task("stock.reserve", metadata = "tests/ui/meta/variants", variant = "v2")]
async fn reserve_v2(ctx: preheat::Ctx, order: u64) -> Result<bool, String> {
    let _ = ctx;
    Ok(order > 1)
}

#[preheat::task("stock.release", metadata = "tests/ui/meta/variants", variant = "v2")]
async fn release_v2(order: u64) -> Result<(), String> {
    let _ = order;
    Ok(())
}

#[preheat::task("stock.release", metadata = "tests/ui/meta/variants", variant = "v1")]
async fn release(order: u64) -> Result<(), String> {
    let _ = order;
    Ok(())
}

mod counting {
    #[preheat::task("stock.count", metadata = "tests/ui/meta/variants", variant = "newest")]
    pub(crate) async fn newest() -> Result<u32, String> {
        Ok(3)
    }
}

#[preheat::task("stock.count", metadata = "tests/ui/meta/variants", variant = "new")]
async fn count_new() -> Result<u32, String> {
    Ok(2)
}

#[preheat::task("stock.count", metadata = "tests/ui/meta/variants")]
async fn count_old() -> Result<u32, String> {
    Ok(1)
}

#[preheat::task("stock.plain", metadata = "tests/ui/meta/variants")]
async fn plain() -> Result<(), String> {
    Ok(())
}

#[allow(dead_code)]
async fn submit(rt: preheat::Runtime) {
    let _ = rt.submit(reserve, 1).await;
    let _ = rt.submit(reserve_v2, 1).await;
    let _ = rt.submit(counting::newest, ()).await;
    let _ = (release, release_v2, count_new, count_old, plain);
}

fn main() {}
