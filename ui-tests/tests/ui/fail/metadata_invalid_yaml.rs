preheat::metadata!("tests/ui/meta/metadata_invalid_yaml");

fn main() {}
