preheat::metadata!("tests/ui/meta/metadata_every_error_at_once");

fn main() {}
