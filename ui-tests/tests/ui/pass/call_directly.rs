// The handle keeps the function callable as `name::call(...)`, for unit tests, and exposes the
// id as `<name as preheat::Task>::ID`.

preheat::metadata!("tests/ui/meta/tasks");

use preheat::{Ctx, Task};

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Charge {
    cents: u64,
}

#[preheat::task("payment.charge", metadata = "tests/ui/meta/tasks")]
async fn charge(ctx: Ctx, input: Charge) -> Result<u64, String> {
    let _ = ctx;
    Ok(input.cents)
}

const ID: &str = <charge as preheat::Task>::ID;

#[allow(dead_code)]
async fn test_charge() {
    assert_eq!(ID, "payment.charge");
    assert_eq!(charge::ID, "payment.charge");
    let output: Result<u64, String> = charge::call(Ctx::for_test::<charge>(), Charge { cents: 100 }).await;
    assert_eq!(output, Ok(100));
}

fn main() {}
