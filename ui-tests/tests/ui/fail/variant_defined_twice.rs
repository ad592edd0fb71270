// Two functions of one variant: the first variant, once without `variant = ...` and once
// naming it, and a second variant twice.

preheat::metadata!("tests/ui/meta/variants");

#[preheat::task("stock.release", metadata = "tests/ui/meta/variants")]
async fn release(order: u64) -> Result<bool, String> {
    Ok(order > 0)
}

#[preheat::task("stock.release", metadata = "tests/ui/meta/variants", variant = "v1")]
async fn release_again(order: u64) -> Result<bool, String> {
    Ok(order > 0)
}

#[preheat::task("stock.release", metadata = "tests/ui/meta/variants", variant = "v2")]
async fn release_v2(order: u64) -> Result<bool, String> {
    Ok(order > 0)
}

#[preheat::task("stock.release", metadata = "tests/ui/meta/variants", variant = "v2")]
async fn release_v2_again(order: u64) -> Result<bool, String> {
    Ok(order > 0)
}

fn main() {}
