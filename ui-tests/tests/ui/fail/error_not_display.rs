preheat::metadata!("tests/ui/meta/tasks");

#[derive(Debug)]
enum CloseError {
    AlreadyPaid,
}

#[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
async fn timeout_close() -> Result<(), CloseError> {
    Err(CloseError::AlreadyPaid)
}

fn main() {}
