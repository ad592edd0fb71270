preheat::metadata!("tests/ui/meta/metadata_unknown_upstream");

fn main() {}
