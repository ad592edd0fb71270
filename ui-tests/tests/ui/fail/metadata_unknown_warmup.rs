preheat::metadata!("tests/ui/meta/metadata_unknown_warmup");

fn main() {}
