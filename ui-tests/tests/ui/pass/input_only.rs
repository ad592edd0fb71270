// A task that does not need its context takes the input alone.

preheat::metadata!("tests/ui/meta/tasks");

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Reindex {
    product_id: u64,
}

#[preheat::task("search.reindex", metadata = "tests/ui/meta/tasks")]
async fn reindex(input: Reindex) -> Result<u32, String> {
    Ok(input.product_id as u32)
}

fn main() {}
