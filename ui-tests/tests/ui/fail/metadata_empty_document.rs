preheat::metadata!("tests/ui/meta/metadata_empty_document");

fn main() {}
