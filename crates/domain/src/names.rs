//! `stored_enum!`: a closed set of states written as fixed names in the database and on the
//! wire (`"pending_review"`, `"WAITING"`), with one definition of each name.
//!
//! Each enum gets `as_str`, `parse`, `ALL`, `Display`, `FromStr` and `TryFrom<String>` (how
//! sqlx rows decode it with `#[sqlx(try_from = "String")]`), serde under the same names, and an
//! OpenAPI schema listing them when the `openapi` feature is on.

/// A stored or sent name that is not one of the enum's names (written by a newer version, or
/// by hand).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}")]
pub struct UnknownName {
    /// What was being read, e.g. `"waitlist status"`.
    pub what: &'static str,
    /// The rejected text.
    pub value: String,
}

/// Defines a `Copy` enum whose variants are stored and sent under the given names.
#[macro_export]
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident as $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $text:tt, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(::utoipa::ToSchema))]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name as stored and sent.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Reads a stored or sent name (case-sensitive).
            pub fn parse(value: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == value)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::names::UnknownName;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::parse(value).ok_or_else(|| $crate::names::UnknownName {
                    what: $what,
                    value: value.to_owned(),
                })
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::names::UnknownName;

            /// Reads a stored name (how rows decode it).
            fn try_from(value: String) -> Result<Self, Self::Error> {
                value.parse()
            }
        }
    };
}

#[cfg(test)]
#[allow(unreachable_pub)] // the macro's items are `pub`; the test enum is private
mod tests {
    crate::stored_enum! {
        /// A test enum.
        enum Colour as "colour" {
            Red = "red",
            DarkBlue = "DARK_BLUE",
        }
    }

    #[test]
    fn names_round_trip_through_text_and_serde_and_unknown_names_are_refused() {
        for colour in Colour::ALL {
            assert_eq!(colour.as_str().parse::<Colour>(), Ok(*colour));
            let json = serde_json::to_string(colour).expect("serializes");
            assert_eq!(json, format!("\"{colour}\""));
            assert_eq!(
                serde_json::from_str::<Colour>(&json).expect("parses"),
                *colour
            );
        }
        let err = "Red"
            .parse::<Colour>()
            .expect_err("names are case-sensitive");
        assert_eq!(err.to_string(), "unknown colour \"Red\"");
        assert!(Colour::try_from("blue".to_owned()).is_err());
    }
}
