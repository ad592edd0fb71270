//! `variants:`: several functions of one task, and how the traffic is split between them.
//!
//! ```yaml
//! id: inventory.reserve
//! variants: { v1: 90, v2: 10 }
//! ```
//!
//! The weights are shares, not percentages: `{ v1: 9, v2: 1 }` splits the same way. The order
//! is the document's: the first variant is the one a `#[task]` function without `variant = ...`
//! implements, and the one a report compares the others with.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serializer};

/// One variant of a task: its name and its share of the traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Variant {
    /// The name, as `#[task("id", variant = "v2")]` spells it.
    pub name: Cow<'static, str>,
    /// Its share of the traffic, out of the sum of every variant's weight. 0 sends it nothing
    /// but coloured traffic, and keeps its pre-warmed workers.
    pub weight: u32,
}

#[doc(hidden)]
impl Variant {
    pub const fn __const(name: &'static str, weight: u32) -> Self {
        Self { name: Cow::Borrowed(name), weight }
    }
}

/// The most one weight may be, so that the sum of a task's weights fits in a `u32`.
pub const MAX_WEIGHT: u32 = 1_000_000;
/// The most variants a task may have: a canary compares a few, and routing keeps their weights
/// on the stack.
pub const MAX_VARIANTS: usize = 8;

/// `variants: { v1: 90, v2: 10 }`, read in document order.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Cow<'static, [Variant]>, D::Error> {
    struct InOrder;

    impl<'de> Visitor<'de> for InOrder {
        type Value = Vec<Variant>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of variant names to weights, such as `{ v1: 90, v2: 10 }`")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut variants: Vec<Variant> = Vec::new();
            while let Some(name) = map.next_key::<String>()? {
                let Weight(weight) = map.next_value()?;
                if variants.iter().any(|variant| variant.name == name) {
                    return Err(de::Error::custom(format!("variant `{name}` is listed twice")));
                }
                variants.push(Variant { name: Cow::Owned(name), weight });
            }
            Ok(variants)
        }
    }

    deserializer.deserialize_map(InOrder).map(Cow::Owned)
}

pub(crate) fn serialize<S: Serializer>(variants: &[Variant], serializer: S) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(variants.len()))?;
    for variant in variants {
        map.serialize_entry(variant.name.as_ref(), &variant.weight)?;
    }
    map.end()
}

/// A weight: a whole number, with a message that says so when it is not.
struct Weight(u32);

impl<'de> Deserialize<'de> for Weight {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Whole;

        impl Visitor<'_> for Whole {
            type Value = Weight;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a weight: a whole number from 0 to {MAX_WEIGHT}, such as `90`")
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Weight, E> {
                match u32::try_from(value) {
                    Ok(weight) if weight <= MAX_WEIGHT => Ok(Weight(weight)),
                    _ => Err(E::invalid_value(de::Unexpected::Unsigned(value), &self)),
                }
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Weight, E> {
                match u64::try_from(value) {
                    Ok(value) => self.visit_u64(value),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Signed(value), &self)),
                }
            }
        }

        deserializer.deserialize_u32(Whole)
    }
}

/// What serde cannot check beyond the names (which `parse` checks as it checks every name):
/// two variants or more, at most [`MAX_VARIANTS`], some traffic.
pub(crate) fn check(variants: &[Variant], problems: &mut Vec<(Option<&'static str>, String)>) {
    if variants.is_empty() {
        return;
    }
    if variants.len() > MAX_VARIANTS {
        problems.push((Some("variants"), format!("lists {} variants; at most {MAX_VARIANTS}", variants.len())));
    }
    if variants.len() == 1 {
        problems.push((
            Some("variants"),
            "lists one variant; a task needs `variants` only for two or more (`{ v1: 90, v2: 10 }`)".into(),
        ));
    }
    if variants.iter().all(|variant| variant.weight == 0) {
        problems
            .push((Some("variants"), "every weight is 0, so no traffic would reach the task; give one a share".into()));
    }
}
