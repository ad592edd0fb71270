preheat::metadata!("tests/ui/meta/metadata_unknown_on_full");

fn main() {}
