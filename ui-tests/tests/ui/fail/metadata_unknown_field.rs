preheat::metadata!("tests/ui/meta/metadata_unknown_field");

fn main() {}
