// Two variants of one task that take different inputs, and two that return different outputs:
// a submit may run either, so both are errors on the variant's types.

preheat::metadata!("tests/ui/meta/variants");

#[preheat::task("stock.reserve", metadata = "tests/ui/meta/variants")]
async fn reserve(order: u64) -> Result<bool, String> {
    Ok(order > 0)
}

#[preheat::task("stock.reserve", metadata = "tests/ui/meta/variants", variant = "v2")]
async fn reserve_v2(order: String) -> Result<bool, String> {
    Ok(!order.is_empty())
}

#[preheat::task("stock.release", metadata = "tests/ui/meta/variants", variant = "v1")]
async fn release(order: u64) -> Result<bool, String> {
    Ok(order > 0)
}

#[preheat::task("stock.release", metadata = "tests/ui/meta/variants", variant = "v2")]
async fn release_v2(order: u64) -> Result<u32, String> {
    Ok(order as u32)
}

fn main() {}
