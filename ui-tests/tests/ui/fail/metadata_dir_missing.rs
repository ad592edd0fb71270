preheat::metadata!("tests/ui/meta/does_not_exist");

fn main() {}
