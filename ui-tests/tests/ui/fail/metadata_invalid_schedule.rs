preheat::metadata!("tests/ui/meta/metadata_invalid_schedule");

fn main() {}
