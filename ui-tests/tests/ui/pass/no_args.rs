// A task may take no arguments at all; its input type is `()`.

preheat::metadata!("tests/ui/meta/tasks");

#[preheat::task("report.daily", metadata = "tests/ui/meta/tasks")]
async fn daily_report() -> Result<(), String> {
    Ok(())
}

fn assert_unit_input<T: preheat::Task<Input = ()>>(_: T) {}

fn main() {
    assert_unit_input(daily_report);
}
