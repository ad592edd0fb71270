// `variants` lists `v2` and `newest` without functions: an error on the function before each in the list.
// Known gap: the message cannot name the missing variant (rustc shows a hash) and lists the other impls.

preheat::metadata!("tests/ui/meta/variants");

#[preheat::task("stock.reserve", metadata = "tests/ui/meta/variants")]
async fn reserve(order: u64) -> Result<bool, String> {
    Ok(order > 0)
}

#[preheat::task("stock.count", metadata = "tests/ui/meta/variants", variant = "old")]
async fn count_old(order: u64) -> Result<u32, String> {
    Ok(order as u32)
}

#[preheat::task("stock.count", metadata = "tests/ui/meta/variants", variant = "new")]
async fn count_new(order: u64) -> Result<u32, String> {
    Ok(order as u32)
}

fn main() {}
