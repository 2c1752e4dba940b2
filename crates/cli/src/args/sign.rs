//! `hallmark sign key|certificate|sigstore|pkcs11-key|pkcs11-certificate` options.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::common::{EngineArgs, HashingArgs, SelectionArgs};

#[derive(Debug, Subcommand)]
pub(crate) enum SignMethod {
    /// Sign with an elliptic-curve private key (P-256, P-384 or P-521).
    Key(SignKeyArgs),
    /// Sign with a private key and its X.509 certificate (and chain).
    Certificate(SignCertArgs),
    /// Sign keylessly: a short-lived certificate for your OIDC identity from the Sigstore
    /// instance a trust config describes, and a transparency-log entry.
    #[cfg(feature = "client")]
    Sigstore(SignSigstoreArgs),
    /// Sign with an elliptic-curve key on a PKCS#11 token (HSM, smart card, SoftHSM).
    #[cfg(feature = "pkcs11")]
    Pkcs11Key(SignPkcs11KeyArgs),
    /// Sign with a key on a PKCS#11 token and its X.509 certificate (and chain).
    #[cfg(feature = "pkcs11")]
    Pkcs11Certificate(SignPkcs11CertArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SignCommon {
    /// The model: a directory or a single file.
    pub(crate) model: PathBuf,
    /// Where to write the signature.
    #[arg(long, default_value = "model.sig")]
    pub(crate) signature: PathBuf,
    #[command(flatten)]
    pub(crate) hashing: HashingArgs,
    /// Print a machine-readable JSON result on standard output.
    #[arg(long)]
    pub(crate) json: bool,
    /// Sign even if no file is left after exclusions (the OMS spec forbids it).
    #[arg(long = "allow-empty")]
    pub(crate) allow_empty: bool,
    /// Reuse the digests of files unchanged (same device, inode, size, mtime, ctime) since
    /// they were last hashed on this machine, if the signature now at --signature records
    /// the same digests; hash the rest. Same signature as a full sign.
    #[arg(long)]
    pub(crate) incremental: bool,
    #[command(flatten)]
    pub(crate) selection: SelectionArgs,
    #[command(flatten)]
    pub(crate) engine: EngineArgs,
}

#[derive(Debug, Args)]
pub(crate) struct KeyMaterialArgs {
    /// PEM private key (PKCS#8 or SEC1; P-256, P-384 or P-521).
    #[arg(long = "private-key", alias = "private_key", value_name = "KEY.pem")]
    pub(crate) private_key: PathBuf,
    /// Password of an encrypted private key (prefer --password-stdin).
    #[arg(long)]
    pub(crate) password: Option<String>,
    /// Read the private key's password from the first line of standard input.
    #[arg(long = "password-stdin", conflicts_with = "password")]
    pub(crate) password_stdin: bool,
}

/// The certificate of the signing key and the chain to embed.
#[derive(Debug, Args)]
pub(crate) struct CertificateArgs {
    /// PEM certificate of the signing key.
    #[arg(
        long = "signing-certificate",
        alias = "signing_certificate",
        value_name = "CERT.pem"
    )]
    pub(crate) signing_certificate: PathBuf,
    /// PEM file(s) of intermediate certificates to embed (repeatable).
    #[arg(
        long = "certificate-chain",
        alias = "certificate_chain",
        value_name = "CHAIN.pem"
    )]
    pub(crate) certificate_chain: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct SignKeyArgs {
    #[command(flatten)]
    pub(crate) common: SignCommon,
    #[command(flatten)]
    pub(crate) key: KeyMaterialArgs,
}

#[derive(Debug, Args)]
pub(crate) struct SignCertArgs {
    #[command(flatten)]
    pub(crate) common: SignCommon,
    #[command(flatten)]
    pub(crate) key: KeyMaterialArgs,
    #[command(flatten)]
    pub(crate) cert: CertificateArgs,
}

#[cfg(feature = "client")]
#[derive(Args)]
pub(crate) struct SignSigstoreArgs {
    #[command(flatten)]
    pub(crate) common: SignCommon,
    /// ClientTrustConfig of the Sigstore instance to sign with (its signingConfig names the
    /// OIDC issuer, the certificate authority and the log). Default: Sigstore public good.
    #[arg(long = "trust-config", alias = "trust_config", value_name = "FILE")]
    pub(crate) trust_config: Option<PathBuf>,
    /// Sign with Sigstore's staging instance (test-only signatures); beats --trust-config,
    /// as in model_signing.
    #[arg(long = "use-staging", alias = "use_staging")]
    pub(crate) use_staging: bool,
    /// OIDC identity token (JWT) to sign with, instead of ambient credentials or the browser
    /// flow; default: $SIGSTORE_ID_TOKEN when set (outside GitLab CI).
    #[arg(long = "identity-token", alias = "identity_token", value_name = "JWT")]
    pub(crate) identity_token: Option<String>,
    /// Read the identity token from a file.
    #[arg(
        long = "identity-token-file",
        alias = "identity_token_file",
        value_name = "FILE",
        conflicts_with = "identity_token"
    )]
    pub(crate) identity_token_file: Option<PathBuf>,
    /// Use the CI's workload identity (GitHub Actions, Google Cloud, Buildkite, GitLab,
    /// CircleCI), detected as sigstore-python does; without one, fall back to the browser.
    #[arg(long = "use-ambient-credentials", alias = "use_ambient_credentials")]
    pub(crate) use_ambient_credentials: bool,
    /// Do not open a browser: print the login URL and read the code it shows from stdin.
    #[arg(long = "oauth-force-oob", alias = "oauth_force_oob")]
    pub(crate) oauth_force_oob: bool,
    /// OAuth client id, and the token audience (default: sigstore).
    #[arg(long = "client-id", alias = "client_id", value_name = "ID")]
    pub(crate) client_id: Option<String>,
    /// OAuth client secret (default: empty, a public client).
    #[arg(long = "client-secret", alias = "client_secret", value_name = "SECRET")]
    pub(crate) client_secret: Option<String>,
}

/// Shows which options were given, never the token or the client secret.
#[cfg(feature = "client")]
impl std::fmt::Debug for SignSigstoreArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignSigstoreArgs")
            .field("common", &self.common)
            .field("trust_config", &self.trust_config)
            .field("use_staging", &self.use_staging)
            .field(
                "identity_token",
                &self.identity_token.as_ref().map(|_| "<redacted>"),
            )
            .field("identity_token_file", &self.identity_token_file)
            .field("use_ambient_credentials", &self.use_ambient_credentials)
            .field("oauth_force_oob", &self.oauth_force_oob)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[cfg(feature = "pkcs11")]
#[derive(Debug, Args)]
pub(crate) struct SignPkcs11KeyArgs {
    #[command(flatten)]
    pub(crate) common: SignCommon,
    #[command(flatten)]
    pub(crate) token: super::pkcs11::Pkcs11UriArgs,
}

#[cfg(feature = "pkcs11")]
#[derive(Debug, Args)]
pub(crate) struct SignPkcs11CertArgs {
    #[command(flatten)]
    pub(crate) common: SignCommon,
    #[command(flatten)]
    pub(crate) token: super::pkcs11::Pkcs11UriArgs,
    #[command(flatten)]
    pub(crate) cert: CertificateArgs,
}
