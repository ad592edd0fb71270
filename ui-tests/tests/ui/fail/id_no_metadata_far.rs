preheat::metadata!("tests/ui/meta/tasks");

#[preheat::task("shipment.track", metadata = "tests/ui/meta/tasks")]
async fn track_shipment() -> Result<(), String> {
    Ok(())
}

fn main() {}
