// `metadata!` below the crate root: the tasks of other modules would not find it.

mod tasks {
    preheat::metadata!("tests/ui/meta/tasks");
}

fn main() {}
