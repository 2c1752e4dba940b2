//! `--require KIND[=VALUE]` of `hallmark pull`: which claim a revision must carry (checked
//! by the `require` module).

use hallmark_bom::ScanVerdict;

/// The claim kinds a hub lists.
pub(crate) const KINDS: [&str; 5] = [
    "publisher-signature",
    "hub-signature",
    "scan",
    "bom",
    "provenance",
];

/// One `--require`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Requirement {
    /// One of [`KINDS`].
    pub(crate) kind: &'static str,
    /// For `scan`, the worst verdict accepted; else the status required.
    pub(crate) want: Want,
}

/// What a required claim must say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    /// A scan verdict no worse than this.
    Verdict(ScanVerdict),
    /// This status (`verified` or `untrusted`).
    Status(&'static str),
    /// Any scan verdict.
    AnyVerdict,
}

/// Parses `KIND[=VALUE]` (clap value parser).
///
/// # Errors
/// An unknown kind, verdict or status, named.
pub(crate) fn parse(spec: &str) -> Result<Requirement, String> {
    let (kind, value) = match spec.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (spec, None),
    };
    let kind = KINDS
        .into_iter()
        .find(|k| *k == kind)
        .ok_or_else(|| format!("unknown claim kind {kind:?} (one of {})", KINDS.join(", ")))?;
    let want = match (kind, value) {
        ("scan", None) => Want::AnyVerdict,
        ("scan", Some(v)) => Want::Verdict(ScanVerdict::from_name(v).ok_or_else(|| {
            format!("{v:?} is not a scan verdict (clean, unverified, suspicious, dangerous)")
        })?),
        (_, None | Some("verified")) => Want::Status("verified"),
        (_, Some("untrusted")) => Want::Status("untrusted"),
        (_, Some(v)) => return Err(format!("{v:?} is not a claim status (verified, untrusted)")),
    };
    Ok(Requirement { kind, want })
}

impl std::fmt::Display for Requirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.want {
            Want::AnyVerdict => write!(f, "{}", self.kind),
            Want::Verdict(v) => write!(f, "{}={}", self.kind, v.as_str()),
            Want::Status(s) => write!(f, "{}={s}", self.kind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_parse_and_unknown_names_are_named() {
        let r = parse("scan=clean").unwrap();
        assert_eq!(r.want, Want::Verdict(ScanVerdict::Clean));
        assert_eq!(r.to_string(), "scan=clean");
        assert_eq!(
            parse("publisher-signature").unwrap().want,
            Want::Status("verified")
        );
        assert_eq!(
            parse("bom=untrusted").unwrap().want,
            Want::Status("untrusted")
        );
        assert!(parse("scan=ok").unwrap_err().contains("\"ok\""));
        assert!(
            parse("signature")
                .unwrap_err()
                .contains("publisher-signature")
        );
        assert!(
            parse("bom=failed")
                .unwrap_err()
                .contains("verified, untrusted")
        );
    }
}
