preheat::metadata!("tests/ui/meta/metadata_upstream_cycle");

fn main() {}
