// Two functions of one crate claim the same task id, in different modules: a compile error on
// both ids (the registry reports the same across crates, at start-up).

preheat::metadata!("tests/ui/meta/tasks");

mod orders {
    #[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
    async fn close_unpaid() -> Result<(), String> {
        Ok(())
    }
}

mod legacy {
    #[preheat::task("order.timeout_close", metadata = "tests/ui/meta/tasks")]
    async fn close_old() -> Result<(), String> {
        Ok(())
    }
}

fn main() {}
