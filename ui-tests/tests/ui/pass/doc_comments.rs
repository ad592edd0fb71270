// Doc comments on the task document the generated handle; `missing_docs` stays quiet.

#![deny(missing_docs)]
//! Docs of the case crate.

preheat::metadata!("tests/ui/meta/tasks");

/// Sends the invoice of an order by mail.
///
/// Retried by the runtime when the mail server is down.
#[preheat::task("invoice.send", metadata = "tests/ui/meta/tasks")]
pub async fn send_invoice() -> Result<(), String> {
    Ok(())
}

fn main() {}
