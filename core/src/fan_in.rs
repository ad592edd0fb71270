//! [`FanIn`]: the input of a task that follows several tasks, a tuple of their outputs.

use std::any::{Any, TypeId, type_name};

/// The input of a task with several `upstream` tasks: a tuple of their outputs, in the order
/// of the `upstream` list.
///
/// ```yaml
/// id: logistics.sync
/// upstream: [inventory.reserve, payment.notify]
/// ```
/// ```rust,standalone_crate,no_run
/// # use preheat::task;
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Clone, Serialize, Deserialize)] pub struct Reservation;
/// # #[derive(Clone, Serialize, Deserialize)] pub struct PaymentNotice;
/// # #[derive(Clone, Serialize, Deserialize)] pub struct Shipment;
/// # #[task("inventory.reserve", metadata = "doc-meta/flows")]
/// # async fn reserve(_: u64) -> Result<Reservation, String> { Ok(Reservation) }
/// # #[task("payment.notify", metadata = "doc-meta/flows")]
/// # async fn notify(_: u64) -> Result<PaymentNotice, String> { Ok(PaymentNotice) }
/// # preheat::metadata!("doc-meta/flows");
/// #[task("logistics.sync", metadata = "doc-meta/flows")]
/// async fn sync(input: (Reservation, PaymentNotice)) -> Result<Shipment, String> {
///     let (_reservation, _payment) = input;
///     Ok(Shipment)
/// }
/// # fn main() {}
/// ```
///
/// Implemented for tuples of two to six elements. The registry checks, before any task runs,
/// that each element is the output type of the upstream task in its place.
#[diagnostic::on_unimplemented(
    message = "a task that follows several tasks takes a tuple of their outputs, not `{Self}`",
    label = "expected `(FirstOutput, SecondOutput, ...)`, in the order of `upstream`"
)]
pub trait FanIn: Sized + Send + 'static {
    /// The element types, in order, with their names for messages.
    fn parts() -> Vec<(TypeId, &'static str)>;

    /// Builds the tuple from the upstream outputs, in order; `None` if one has the wrong type.
    fn assemble(parts: Vec<Box<dyn Any + Send>>) -> Option<Self>;
}

macro_rules! fan_in {
    ($($part:ident),+) => {
        impl<$($part: Send + 'static),+> FanIn for ($($part,)+) {
            fn parts() -> Vec<(TypeId, &'static str)> {
                vec![$((TypeId::of::<$part>(), type_name::<$part>())),+]
            }

            fn assemble(parts: Vec<Box<dyn Any + Send>>) -> Option<Self> {
                let mut parts = parts.into_iter();
                Some(($(*parts.next()?.downcast::<$part>().ok()?,)+))
            }
        }
    };
}

fan_in!(A, B);
fan_in!(A, B, C);
fan_in!(A, B, C, D);
fan_in!(A, B, C, D, E);
fan_in!(A, B, C, D, E, F);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assembles_in_order_and_refuses_wrong_types() {
        let parts: Vec<Box<dyn Any + Send>> = vec![Box::new(7_u32), Box::new("seven".to_owned())];
        assert_eq!(<(u32, String)>::assemble(parts), Some((7, "seven".to_owned())));
        let swapped: Vec<Box<dyn Any + Send>> = vec![Box::new("seven".to_owned()), Box::new(7_u32)];
        assert_eq!(<(u32, String)>::assemble(swapped), None);
        assert_eq!(<(u32, String)>::parts()[1].0, TypeId::of::<String>());
    }
}
