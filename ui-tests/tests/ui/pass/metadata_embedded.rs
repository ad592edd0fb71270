// `metadata!` accepts a directory of valid documents, nested files included, and embeds it.

preheat::metadata!("tests/ui/meta/metadata_embedded");

fn main() {}
