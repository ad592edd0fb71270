// A `pub` task is a `pub` handle: other modules name it by path, like any item.

preheat::metadata!("tests/ui/meta/tasks");

mod mail {
    #[derive(Clone, serde::Serialize, serde::Deserialize)]
    pub struct Welcome {
        pub customer_id: u64,
    }

    #[preheat::task("mail.welcome", metadata = "tests/ui/meta/tasks")]
    pub async fn send_welcome(input: Welcome) -> Result<(), String> {
        let _ = input.customer_id;
        Ok(())
    }
}

mod signup {
    use crate::mail::{Welcome, send_welcome};

    pub fn handle() -> (send_welcome, Welcome) {
        (send_welcome, Welcome { customer_id: 7 })
    }
}

fn main() {
    let _ = signup::handle;
}
