// A function whose variant is not in its task's `variants` (with a suggestion), and one on a
// task that has no `variants` at all.

preheat::metadata!("tests/ui/meta/variants");

#[preheat::task("stock.reserve", metadata = "tests/ui/meta/variants", variant = "v3")]
async fn reserve_v3(order: u64) -> Result<bool, String> {
    Ok(order > 0)
}

#[preheat::task("stock.release", metadata = "tests/ui/meta/variants", variant = "V2")]
async fn release_v2(order: u64) -> Result<bool, String> {
    Ok(order > 0)
}

#[preheat::task("stock.plain", metadata = "tests/ui/meta/variants", variant = "v2")]
async fn plain_v2() -> Result<(), String> {
    Ok(())
}

fn main() {}
