preheat::metadata!("tests/ui/meta/metadata_duplicate_id");

fn main() {}
