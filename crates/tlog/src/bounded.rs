//! Lists in untrusted JSON deserialized with a cap on their length: the element past the
//! cap fails the parse before anything more is read or allocated.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, Error as _, SeqAccess, Visitor};

/// A cap and the name of what is capped, for the error message.
pub(crate) trait Cap {
    /// Most elements.
    const MAX: usize;
    /// What the elements are, e.g. `"envelope signatures"`.
    const WHAT: &'static str;
}

/// A list of at most `C::MAX` elements.
pub(crate) struct Bounded<T, C>(pub(crate) Vec<T>, PhantomData<C>);

impl<'de, T: Deserialize<'de>, C: Cap> Deserialize<'de> for Bounded<T, C> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, C>(PhantomData<(T, C)>);
        impl<'de, T: Deserialize<'de>, C: Cap> Visitor<'de> for V<T, C> {
            type Value = Bounded<T, C>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a list of at most {} {}", C::MAX, C::WHAT)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = seq.next_element()? {
                    if out.len() == C::MAX {
                        return Err(A::Error::custom(format!(
                            "more than {} {} (the limit)",
                            C::MAX,
                            C::WHAT
                        )));
                    }
                    out.push(x);
                }
                Ok(Bounded(out, PhantomData))
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Three;
    impl Cap for Three {
        const MAX: usize = 3;
        const WHAT: &'static str = "things";
    }

    #[test]
    fn the_element_past_the_cap_fails_the_parse() {
        let ok: Bounded<u8, Three> = serde_json::from_str("[1,2,3]").unwrap();
        assert_eq!(ok.0, [1, 2, 3]);
        let err = serde_json::from_str::<Bounded<u8, Three>>("[1,2,3,4]")
            .err()
            .unwrap();
        assert!(err.to_string().contains("more than 3 things"), "{err}");
    }
}
