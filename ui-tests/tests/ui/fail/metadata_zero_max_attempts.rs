preheat::metadata!("tests/ui/meta/metadata_zero_max_attempts");

fn main() {}
