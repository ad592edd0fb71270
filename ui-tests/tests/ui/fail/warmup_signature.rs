// Everything wrong with a warmer's signature is reported at once: not `async`, generic, with
// arguments.

#[preheat::warmup("db")]
fn open_db<T>(url: T) -> Result<(), String> {
    let _ = url;
    Ok(())
}

fn main() {}
