// A warmer's error must be `Display`, so that a failed warm-up can say why.

struct Opaque;

#[preheat::warmup("db")]
async fn open_db() -> Result<(), Opaque> {
    Err(Opaque)
}

fn main() {}
