// A weight in `variants` must be a whole number: the error names the task, the file and the
// variant's field.

preheat::metadata!("tests/ui/meta/variant_weight_not_number");

fn main() {}
