//! The names of the verification checks (a leaf: errors and the verifier both name them).

/// The verification checks, in the order they are reported.
///
/// `Display` gives the check's name as users see it ("signing time", "DSSE signature", ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// The bundle parses as a Sigstore bundle holding one DSSE envelope and one log entry.
    Bundle,
    /// A signing time authenticated by the transparency log or a trusted timestamp authority.
    SigningTime,
    /// The signing certificate chains to a Fulcio CA of the trust root, valid at the signing time.
    CertificateChain,
    /// The certificate's embedded SCT is signed by a CT log of the trust root.
    Sct,
    /// The transparency-log entry: inclusion proof, signed checkpoint, signed entry timestamp.
    TransparencyLog,
    /// The DSSE signature over the pre-authentication encoding verifies with the leaf key.
    DsseSignature,
    /// The log entry body records this envelope and this certificate.
    LogEntryBinding,
    /// The certificate identity (SAN) matches the policy.
    Identity,
    /// The certificate's OIDC issuer matches the policy.
    Issuer,
    /// The trust root could be used.
    TrustRoot,
}

impl Check {
    /// The check's name as users see it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Bundle => "bundle",
            Self::SigningTime => "signing time",
            Self::CertificateChain => "certificate chain",
            Self::Sct => "certificate transparency",
            Self::TransparencyLog => "transparency log",
            Self::DsseSignature => "DSSE signature",
            Self::LogEntryBinding => "log entry binding",
            Self::Identity => "identity",
            Self::Issuer => "issuer",
            Self::TrustRoot => "trust root",
        }
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
