preheat::metadata!("tests/ui/meta/metadata_workers_min_above_max");

fn main() {}
