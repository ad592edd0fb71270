preheat::metadata!("tests/ui/meta/metadata_wrong_type");

fn main() {}
