//! Watch rules: which certificate identities (exact or regex) and issuers a monitor
//! reports, and which issuer a watched identity is expected to come from.
//!
//! A rule file is JSON: `{"rules": [{"name": …, "identity": … | "identity_regex": …,
//! "issuer": … | "issuer_regex": …, "expected_issuer": …}], "first_signer": bool}`.
//! A rule with `expected_issuer` alerts only on entries for its identity made by another
//! issuer ("unexpected-issuer"); a rule without alerts on every matching entry
//! ("watched-identity"). Regexes match the whole value and are bounded in pattern length
//! and compiled size (they come from org owners over the hub API, too).

use regex_lite::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

/// Most bytes in one pattern (exact value or regex).
pub const MAX_PATTERN_BYTES: usize = 1024;
/// Most compiled bytes of one regex.
pub const MAX_REGEX_COMPILED_BYTES: usize = 256 * 1024;
/// Most rules in one watch list.
pub const MAX_RULES: usize = 256;

/// Why a watch list was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuleError {
    /// A pattern is longer than [`MAX_PATTERN_BYTES`].
    #[error("rule {rule}: {field} is {len} bytes, more than the limit of {MAX_PATTERN_BYTES}")]
    TooLong {
        /// Rule position.
        rule: usize,
        /// Field name.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// A regex does not compile (or exceeds [`MAX_REGEX_COMPILED_BYTES`]).
    #[error("rule {rule}: {field} is not a usable regex: {reason}")]
    BadRegex {
        /// Rule position.
        rule: usize,
        /// Field name.
        field: &'static str,
        /// The compiler's reason.
        reason: String,
    },
    /// Both the exact and the regex form of one field.
    #[error("rule {rule}: give {field} or {field}_regex, not both")]
    Both {
        /// Rule position.
        rule: usize,
        /// Field name.
        field: &'static str,
    },
    /// A rule that matches nothing in particular.
    #[error("rule {rule}: needs an identity, identity_regex, issuer or issuer_regex")]
    Empty {
        /// Rule position.
        rule: usize,
    },
    /// More than [`MAX_RULES`] rules.
    #[error("{0} rules, more than the limit of {MAX_RULES}")]
    TooMany(usize),
    /// The rule file is not the JSON described above.
    #[error("watch rules JSON: {0}")]
    Json(String),
}

/// One rule as written (JSON, the hub's store and API).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// A label for alerts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Exact certificate identity (SAN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Regex over the whole identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_regex: Option<String>,
    /// Exact OIDC issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Regex over the whole issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_regex: Option<String>,
    /// The only issuer that may sign for the identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_issuer: Option<String>,
}

/// A watch list file.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WatchFile {
    /// The rules.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    /// Whether to apply the first-signer rule.
    #[serde(default)]
    pub first_signer: bool,
}

impl WatchFile {
    /// Adds a rule per exact identity and per identity regex, each expecting `issuer`
    /// (if given): the command-line form of a watch list.
    pub fn watch_identities(
        &mut self,
        exact: &[String],
        regex: &[String],
        expected_issuer: Option<&str>,
    ) {
        let exact = exact.iter().map(|i| (Some(i.clone()), None));
        let regex = regex.iter().map(|r| (None, Some(r.clone())));
        for (identity, identity_regex) in exact.chain(regex) {
            self.rules.push(RuleSpec {
                identity,
                identity_regex,
                expected_issuer: expected_issuer.map(str::to_owned),
                ..RuleSpec::default()
            });
        }
    }
}

#[derive(Debug)]
enum Matcher {
    Any,
    Exact(String),
    Regex(Regex),
}

impl Matcher {
    fn new(
        rule: usize,
        field: &'static str,
        exact: Option<&str>,
        regex: Option<&str>,
    ) -> Result<Self, RuleError> {
        let check = |v: &str| {
            if v.len() > MAX_PATTERN_BYTES {
                return Err(RuleError::TooLong {
                    rule,
                    field,
                    len: v.len(),
                });
            }
            Ok(())
        };
        match (exact, regex) {
            (Some(_), Some(_)) => Err(RuleError::Both { rule, field }),
            (Some(e), None) => check(e).map(|()| Self::Exact(e.to_owned())),
            (None, Some(r)) => {
                check(r)?;
                RegexBuilder::new(&format!("^(?:{r})$"))
                    .size_limit(MAX_REGEX_COMPILED_BYTES)
                    .nest_limit(64)
                    .build()
                    .map(Self::Regex)
                    .map_err(|e| RuleError::BadRegex {
                        rule,
                        field,
                        reason: e.to_string(),
                    })
            }
            (None, None) => Ok(Self::Any),
        }
    }

    fn matches(&self, v: Option<&str>) -> bool {
        match (self, v) {
            (Self::Any, _) => true,
            (Self::Exact(e), Some(v)) => e == v,
            (Self::Regex(r), Some(v)) => r.is_match(v),
            (_, None) => false,
        }
    }
}

/// A compiled rule.
#[derive(Debug)]
pub struct WatchRule {
    spec: RuleSpec,
    identity: Matcher,
    issuer: Matcher,
}

/// What a rule says about one signer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The rule does not concern this signer.
    Ignore,
    /// A watched identity signed through its expected issuer: nothing to report.
    Expected,
    /// Report the entry (a match of a rule without an expected issuer).
    Watched,
    /// The identity is watched and another issuer made the signature.
    UnexpectedIssuer(String),
}

impl WatchRule {
    /// Compiles rule number `rule` (for messages).
    ///
    /// # Errors
    /// [`RuleError`] naming the rule and field.
    pub fn compile(rule: usize, spec: RuleSpec) -> Result<Self, RuleError> {
        if spec.identity.is_none()
            && spec.identity_regex.is_none()
            && spec.issuer.is_none()
            && spec.issuer_regex.is_none()
        {
            return Err(RuleError::Empty { rule });
        }
        for (field, v) in [
            ("name", &spec.name),
            ("expected_issuer", &spec.expected_issuer),
        ] {
            if let Some(v) = v
                && v.len() > MAX_PATTERN_BYTES
            {
                return Err(RuleError::TooLong {
                    rule,
                    field,
                    len: v.len(),
                });
            }
        }
        let identity = Matcher::new(
            rule,
            "identity",
            spec.identity.as_deref(),
            spec.identity_regex.as_deref(),
        )?;
        let issuer = Matcher::new(
            rule,
            "issuer",
            spec.issuer.as_deref(),
            spec.issuer_regex.as_deref(),
        )?;
        Ok(Self {
            spec,
            identity,
            issuer,
        })
    }

    /// The rule as written.
    #[must_use]
    pub fn spec(&self) -> &RuleSpec {
        &self.spec
    }

    /// A label for alerts: the name, else the identity pattern, else the issuer's.
    #[must_use]
    pub fn label(&self) -> String {
        let s = &self.spec;
        s.name
            .clone()
            .or_else(|| s.identity.clone())
            .or_else(|| s.identity_regex.clone())
            .or_else(|| s.issuer.clone())
            .or_else(|| s.issuer_regex.clone())
            .unwrap_or_default()
    }

    /// Whether the identity is one this rule watches (issuer aside).
    #[must_use]
    pub fn watches_identity(&self, identity: &str) -> bool {
        !matches!(self.identity, Matcher::Any) && self.identity.matches(Some(identity))
    }

    /// The rule's verdict on a signer.
    #[must_use]
    pub fn judge(&self, identity: &str, issuer: Option<&str>) -> Verdict {
        if !self.identity.matches(Some(identity)) {
            return Verdict::Ignore;
        }
        if let Some(expected) = &self.spec.expected_issuer {
            return if issuer == Some(expected.as_str()) {
                Verdict::Expected
            } else {
                Verdict::UnexpectedIssuer(expected.clone())
            };
        }
        if self.issuer.matches(issuer) {
            Verdict::Watched
        } else {
            Verdict::Ignore
        }
    }
}

/// A compiled watch list.
#[derive(Debug, Default)]
pub struct WatchList {
    /// The rules.
    pub rules: Vec<WatchRule>,
    /// Whether the first-signer rule applies.
    pub first_signer: bool,
}

impl WatchList {
    /// Compiles every rule.
    ///
    /// # Errors
    /// [`RuleError`] for the first bad rule, or too many rules.
    pub fn compile(file: WatchFile) -> Result<Self, RuleError> {
        if file.rules.len() > MAX_RULES {
            return Err(RuleError::TooMany(file.rules.len()));
        }
        let rules = file
            .rules
            .into_iter()
            .enumerate()
            .map(|(i, s)| WatchRule::compile(i, s))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            rules,
            first_signer: file.first_signer,
        })
    }

    /// Parses and compiles a rule file (JSON).
    ///
    /// # Errors
    /// [`RuleError::Json`] or a rule's error.
    pub fn from_json(text: &[u8]) -> Result<Self, RuleError> {
        let file: WatchFile =
            serde_json::from_slice(text).map_err(|e| RuleError::Json(e.to_string()))?;
        Self::compile(file)
    }

    /// Whether any rule watches `identity`.
    #[must_use]
    pub fn watches_identity(&self, identity: &str) -> bool {
        self.rules.iter().any(|r| r.watches_identity(identity))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: &str) -> Result<WatchRule, RuleError> {
        WatchRule::compile(0, serde_json::from_str(json).unwrap())
    }

    #[test]
    fn exact_regex_and_expected_issuer() {
        let r = rule(r#"{"identity_regex": "https://hub/a.*", "expected_issuer": "https://hub"}"#)
            .unwrap();
        assert_eq!(
            r.judge("https://hub/alice", Some("https://hub")),
            Verdict::Expected
        );
        assert_eq!(
            r.judge("https://hub/alice", Some("https://evil")),
            Verdict::UnexpectedIssuer("https://hub".into())
        );
        assert_eq!(
            r.judge("https://hub/bob", Some("https://evil")),
            Verdict::Ignore
        );
        // Anchored: a prefix elsewhere does not match.
        assert_eq!(r.judge("x https://hub/alice", None), Verdict::Ignore);
        let w = rule(r#"{"identity": "bob@x", "issuer": "https://i"}"#).unwrap();
        assert_eq!(w.judge("bob@x", Some("https://i")), Verdict::Watched);
        assert_eq!(w.judge("bob@x", Some("https://j")), Verdict::Ignore);
    }

    #[test]
    fn patterns_are_bounded() {
        let long = "a".repeat(MAX_PATTERN_BYTES + 1);
        let e = rule(&format!(r#"{{"identity_regex": "{long}"}}"#)).unwrap_err();
        assert!(
            matches!(
                e,
                RuleError::TooLong {
                    field: "identity",
                    ..
                }
            ),
            "{e}"
        );
        // A short pattern whose compiled form is huge is refused by the size limit.
        let e = rule(r#"{"identity_regex": "(((a{100}){100}){100})"}"#).unwrap_err();
        assert!(matches!(e, RuleError::BadRegex { .. }), "{e}");
        assert_eq!(rule("{}").unwrap_err(), RuleError::Empty { rule: 0 });
        let e = rule(r#"{"identity": "a", "identity_regex": "a"}"#).unwrap_err();
        assert_eq!(
            e,
            RuleError::Both {
                rule: 0,
                field: "identity"
            }
        );
    }
}
