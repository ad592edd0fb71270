// Known gap: the second error is spurious. `order.created` is documented, but its document is
// invalid, and the set checks run without it.

preheat::metadata!("tests/ui/meta/metadata_invalid_upstream_document");

fn main() {}
