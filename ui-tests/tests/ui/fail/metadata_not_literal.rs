preheat::metadata!(meta);

fn main() {}
