preheat::metadata!("tests/ui/meta/metadata_zero_queue_capacity");

fn main() {}
