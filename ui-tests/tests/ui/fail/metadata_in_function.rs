// `metadata!` inside a function at the crate root, as in a doctest without `fn main`: its marker
// is local to the function, where no task can name it.

fn main() {
    preheat::metadata!("tests/ui/meta/tasks");
}
