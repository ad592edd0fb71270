preheat::metadata!("tests/ui/meta/metadata_invalid_duration");

fn main() {}
