//! `hallmark sign key|certificate|sigstore|pkcs11-key|pkcs11-certificate` options.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::common::{EngineArgs, HashArg, SelectionArgs, SerializationArg};

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
    /// Serialization: files (default) or shards.
    #[arg(long, value_enum, default_value = "files")]
    pub(crate) serialization: SerializationArg,
    /// Content hash.
    #[arg(
        long = "hash",
        alias = "hash_algorithm",
        value_enum,
        default_value = "sha256"
    )]
    pub(crate) hash: HashArg,
    /// Shard size in bytes, for --serialization shards.
    #[arg(long = "shard-size", alias = "shard_size", value_name = "BYTES", default_value_t = hallmark_format::manifest::DEFAULT_SHARD_SIZE)]
    pub(crate) shard_size: u64,
    /// Sign even if no file is left after exclusions (the OMS spec forbids it).
    #[arg(long = "allow-empty")]
    pub(crate) allow_empty: bool,
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

#[cfg(feature = "client")]
#[derive(Debug, Args)]
pub(crate) struct SignSigstoreArgs {
    #[command(flatten)]
    pub(crate) common: SignCommon,
    /// ClientTrustConfig of the Sigstore instance to sign with (its signingConfig names
    /// the certificate authority and the log).
    #[arg(long = "trust-config", alias = "trust_config", value_name = "FILE")]
    pub(crate) trust_config: PathBuf,
    /// OIDC identity token (JWT); default: $SIGSTORE_ID_TOKEN.
    #[arg(long = "identity-token", alias = "identity_token", value_name = "JWT")]
    pub(crate) identity_token: Option<String>,
    /// Read the identity token from a file.
    #[arg(
        long = "identity-token-file",
        value_name = "FILE",
        conflicts_with = "identity_token"
    )]
    pub(crate) identity_token_file: Option<PathBuf>,
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
    /// PEM certificate of the token's key.
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
