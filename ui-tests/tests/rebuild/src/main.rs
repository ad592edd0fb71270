//! The scratch crate of `tests/rebuild.rs`: one task and the directory of its metadata.

preheat::metadata!("meta");

#[preheat::task("scratch.job")]
async fn job() -> Result<(), String> {
    Ok(())
}

fn main() {
    match preheat::Registry::global() {
        Ok(registry) => println!("{} task(s), among them `{}`", registry.tasks().len(), <job as preheat::Task>::ID),
        Err(error) => eprintln!("{error}"),
    }
}
