// A task written inside a function (as a test might): its crate-wide check names the marker at
// the crate root, and no `non_local_definitions` warning is raised for it (warnings are errors).
#![deny(warnings)]

preheat::metadata!("tests/ui/meta/tasks");

fn main() {
    #[preheat::task("report.daily", metadata = "tests/ui/meta/tasks")]
    async fn daily() -> Result<(), String> {
        Ok(())
    }
    let _ = daily;
}
