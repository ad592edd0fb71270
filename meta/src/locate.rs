//! Finding where a field is written, for errors found after parsing.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The 1-based line and column of `field` (a dotted path: `workers.min`, `upstream.1`) in the
/// document of `task` in `text`; `None` if either is not there.
///
/// serde gives no positions for values it has parsed, so this parses the document again and
/// stops with an error at the field: serde_yaml puts the position on the error.
pub fn locate(text: &str, task: &str, field: &str) -> Option<(usize, usize)> {
    let index = serde_yaml::Deserializer::from_str(text).position(|document| {
        serde_yaml::Value::deserialize(document)
            .ok()
            .is_some_and(|value| value.get("id").and_then(|id| id.as_str()) == Some(task))
    })?;
    let document = serde_yaml::Deserializer::from_str(text).nth(index)?;
    let path: Vec<&str> = field.split('.').collect();
    let error = Seek { path: &path }.deserialize(document).err()?;
    error.location().map(|at| (at.line(), at.column()))
}

/// Walks down `path`, failing on arrival.
struct Seek<'a> {
    path: &'a [&'a str],
}

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if self.path.is_empty() {
            // Failing from inside the value's own visit puts the value's position on the error.
            return deserializer.deserialize_any(Found);
        }
        deserializer.deserialize_any(self)
    }
}

/// Fails on whatever value it is given.
struct Found;

macro_rules! found {
    ($($visit:ident($($arg:ty)?)),*) => {
        $(fn $visit<E: de::Error>(self $(, _: $arg)?) -> Result<(), E> {
            Err(E::custom("found"))
        })*
    };
}

impl<'de> Visitor<'de> for Found {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    found!(visit_bool(bool), visit_i64(i64), visit_u64(u64), visit_f64(f64), visit_str(&str), visit_unit());

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom("found"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom("found"))
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map or a sequence")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == self.path[0] {
                return map.next_value_seed(Seek { path: &self.path[1..] });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Ok(wanted) = self.path[0].parse::<usize>() else { return Ok(()) };
        for _ in 0..wanted {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Seek { path: &self.path[1..] }).map(drop)
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_fields_and_list_items() {
        let text = "id: a.one\n---\nid: a.two\ndescription: x\nworkers: { min: 8, max: 2 }\nupstream:\n  - a.one\n  - a.zero\n";
        assert_eq!(locate(text, "a.two", "workers.min"), Some((5, 17)));
        assert_eq!(locate(text, "a.two", "upstream.1"), Some((8, 5)));
        assert_eq!(locate(text, "a.two", "id"), Some((3, 5)));
        assert_eq!(locate(text, "a.two", "queue.capacity"), None);
        assert_eq!(locate(text, "a.nine", "id"), None);
    }
}
