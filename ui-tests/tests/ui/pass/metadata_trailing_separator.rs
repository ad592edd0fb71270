// A file that ends with `---` has an empty last document; it is ignored, not an error.
preheat::metadata!("tests/ui/meta/metadata_empty_document");

fn main() {}
