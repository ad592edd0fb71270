// A crate-local `Result` alias is accepted: the return type is checked through the type system,
// not by its spelling.

preheat::metadata!("tests/ui/meta/tasks");

#[derive(Debug)]
struct StockError;

impl std::fmt::Display for StockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stock service unavailable")
    }
}

type Result<T> = std::result::Result<T, StockError>;

#[preheat::task("stock.sync", metadata = "tests/ui/meta/tasks")]
async fn sync_stock() -> Result<u32> {
    Ok(0)
}

fn assert_error<T: preheat::Task<Output = u32, Error = StockError>>(_: T) {}

fn main() {
    assert_error(sync_stock);
}
