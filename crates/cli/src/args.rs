//! Command-line surface. Every flag also accepts model_signing 1.1.1's `--snake_case`
//! spelling, so `hallmark` is a drop-in replacement for `model_signing`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Sign and verify ML models in the OpenSSF Model Signing (OMS) format.
///
/// Exit status: 0 = success (verified), 1 = verification failed, 2 = usage or input
/// error, 130 = interrupted.
#[derive(Debug, Parser)]
#[command(name = "hallmark", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// Accepted for compatibility with model_signing; hallmark prints warnings and errors only.
    #[arg(long = "log-level", alias = "log_level", global = true, hide = true)]
    pub(crate) log_level: Option<String>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Sign a model (a directory or a single file).
    #[command(subcommand)]
    Sign(SignMethod),
    /// Verify a model against its signature.
    #[command(subcommand)]
    Verify(VerifyMethod),
    /// Decode a signature and show what it claims, WITHOUT verifying anything.
    Inspect(InspectArgs),
    /// Run and administer the model hub (`hub serve`, `hub admin ...`).
    #[command(subcommand)]
    Hub(crate::hub::HubCommand),
    /// Upload a model directory to a hub as a new revision (the hub signs it).
    Push(crate::push::PushArgs),
    /// Download a model from a hub and verify its signature.
    Pull(crate::pull::PullArgs),
    /// Transparency-log tools (audit a log like a monitor / witness).
    #[command(subcommand)]
    Log(crate::log::LogCommand),
    /// Run a private Sigstore instance (OIDC issuer, CA, transparency log).
    #[command(subcommand)]
    Sigstore(SigstoreCommand),
    /// Scan model files for code-execution payloads, without loading them.
    #[command(after_help = crate::scan::EXIT_HELP)]
    Scan(ScanArgs),
    /// Write an AI-BOM for a model: CycloneDX 1.6 ML-BOM or SPDX 3.0.1 AI/Dataset.
    Bom(crate::bom::BomArgs),
    /// SLSA provenance for ML training: `train` writes it, `verify` checks it.
    #[command(subcommand)]
    Attest(crate::attest::AttestCommand),
    /// Decide whether a model may be used (signature, scan, provenance, BOM) and score it.
    #[command(subcommand)]
    Policy(crate::policy::PolicyCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum SignMethod {
    /// Sign with an elliptic-curve private key (P-256, P-384 or P-521).
    Key(SignKeyArgs),
    /// Sign with a private key and its X.509 certificate (and chain).
    Certificate(SignCertArgs),
    /// Sign keylessly: a short-lived certificate for your OIDC identity from the Sigstore
    /// instance a trust config describes, and a transparency-log entry.
    Sigstore(SignSigstoreArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum VerifyMethod {
    /// Verify a signature made with a key, given the public key.
    Key(VerifyKeyArgs),
    /// Verify a signature made with a certificate, given trusted root certificates.
    Certificate(VerifyCertArgs),
    /// Verify a keyless (Sigstore) signature offline: identity, issuer, certificate,
    /// transparency log. Without a trust option the Sigstore public-good trusted root
    /// compiled into hallmark is used (see --help for its date).
    Sigstore(VerifySigstoreArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum SerializationArg {
    /// One digest per file (the reference default; the only one its CLI verifies).
    Files,
    /// One digest per byte range of each file: hashes one big file on every core.
    Shards,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum HashArg {
    /// SHA-256 (default).
    Sha256,
    /// BLAKE2b-512.
    #[value(alias = "blake2")]
    Blake2b,
    /// BLAKE3.
    Blake3,
}

/// Hashing-engine options shared by sign and verify.
#[derive(Debug, Args)]
pub(crate) struct EngineArgs {
    /// Hashing threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,
    /// Memory-map files instead of reading them (faster on some systems; only for
    /// trusted local trees: a file truncated while mapped kills the process).
    #[arg(long)]
    pub(crate) mmap: bool,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
}

/// Options that select what is part of the model.
#[derive(Debug, Args)]
pub(crate) struct SelectionArgs {
    /// Path to exclude, relative to the current directory (repeatable).
    #[arg(long = "ignore-paths", alias = "ignore_paths", value_name = "PATH")]
    pub(crate) ignore_paths: Vec<PathBuf>,
    /// Exclude the top-level .git, .gitattributes, .github and .gitignore (default).
    #[arg(
        long = "ignore-git-paths",
        alias = "ignore_git_paths",
        overrides_with = "no_ignore_git_paths"
    )]
    pub(crate) ignore_git_paths: bool,
    /// Include git paths in the model.
    #[arg(long = "no-ignore-git-paths", alias = "no_ignore_git_paths")]
    pub(crate) no_ignore_git_paths: bool,
    /// Follow symbolic links to files (links to directories are skipped).
    #[arg(long = "allow-symlinks", alias = "allow_symlinks")]
    pub(crate) allow_symlinks: bool,
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

#[derive(Debug, Args)]
pub(crate) struct VerifyCommon {
    /// The model: a directory or a single file.
    pub(crate) model: PathBuf,
    /// The signature to verify.
    #[arg(long)]
    pub(crate) signature: PathBuf,
    /// Check only the files the signature names; accept other files.
    #[arg(
        long = "ignore-unsigned-files",
        alias = "ignore_unsigned_files",
        overrides_with = "no_ignore_unsigned_files"
    )]
    pub(crate) ignore_unsigned_files: bool,
    /// Check every file (default).
    #[arg(
        long = "no-ignore-unsigned-files",
        alias = "no_ignore_unsigned_files",
        hide = true
    )]
    pub(crate) no_ignore_unsigned_files: bool,
    /// Print a machine-readable JSON result on standard output.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) selection: SelectionArgs,
    #[command(flatten)]
    pub(crate) engine: EngineArgs,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyKeyArgs {
    #[command(flatten)]
    pub(crate) common: VerifyCommon,
    /// PEM public key (SubjectPublicKeyInfo).
    #[arg(long = "public-key", alias = "public_key", value_name = "PUB.pem")]
    pub(crate) public_key: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyCertArgs {
    #[command(flatten)]
    pub(crate) common: VerifyCommon,
    /// PEM file(s) with the trusted root certificate(s) (repeatable, required).
    #[arg(
        long = "certificate-chain",
        alias = "certificate_chain",
        value_name = "ROOTS.pem",
        required = true
    )]
    pub(crate) certificate_chain: Vec<PathBuf>,
    /// Validate the chain now instead of at the leaf's notBefore (the reference's rule,
    /// which accepts expired leaves).
    #[arg(long = "strict-validity")]
    pub(crate) strict_validity: bool,
    /// Accepted for compatibility with model_signing (fingerprints are in --json).
    #[arg(long = "log-fingerprints", alias = "log_fingerprints", hide = true)]
    pub(crate) log_fingerprints: bool,
}

/// `hallmark scan` options.
#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// Files or directories (scanned recursively; formats are identified by content).
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Print a JSON report on standard output.
    #[arg(long, conflicts_with = "sarif")]
    pub(crate) json: bool,
    /// Print a SARIF 2.1.0 log on standard output.
    #[arg(long)]
    pub(crate) sarif: bool,
    /// Allow an extra global `module.name` in pickles (repeatable; reported as an override).
    #[arg(long = "allow", value_name = "MODULE.NAME")]
    pub(crate) allow: Vec<String>,
    /// Also list clean files and informational notes.
    #[arg(long, short = 'v')]
    pub(crate) verbose: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The signature file.
    pub(crate) signature: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// List every resource.
    #[arg(long)]
    pub(crate) resources: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VerifySigstoreArgs {
    #[command(flatten)]
    pub(crate) common: VerifyCommon,
    /// The signer's identity (certificate SAN: an email or URI), matched exactly.
    #[arg(long, required_unless_present = "identity_regex")]
    pub(crate) identity: Option<String>,
    /// A regular expression the signer's identity must match in full.
    #[arg(
        long = "identity-regex",
        alias = "identity_regex",
        conflicts_with = "identity"
    )]
    pub(crate) identity_regex: Option<String>,
    /// The OIDC issuer of the identity (e.g. https://accounts.google.com), matched exactly.
    #[arg(long = "identity-provider", alias = "identity_provider")]
    pub(crate) identity_provider: String,
    /// ClientTrustConfig JSON (as model_signing takes) for a private Sigstore instance.
    #[arg(long = "trust-config", alias = "trust_config", value_name = "FILE")]
    pub(crate) trust_config: Option<PathBuf>,
    /// A trusted_root.json instead of a ClientTrustConfig.
    #[arg(
        long = "trusted-root",
        alias = "trusted_root",
        value_name = "FILE",
        conflicts_with = "trust_config"
    )]
    pub(crate) trusted_root: Option<PathBuf>,
}

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

#[derive(Debug, Subcommand)]
pub(crate) enum SigstoreCommand {
    /// Serve the instance: OIDC discovery/JWKS, Fulcio v2, Rekor v1, /trust-config.json.
    Serve(SigstoreServeArgs),
    /// Print an ID token for an identity (operator only: reads the issuer key from the
    /// data directory). For CI machines and tests.
    Token(SigstoreTokenArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SigstoreServeArgs {
    /// Data directory (keys, CA, log); created on first start.
    #[arg(long = "data-dir", value_name = "DIR")]
    pub(crate) data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: String,
    /// URL clients use to reach the instance (default: http://LISTEN); it is also the
    /// OIDC issuer named in certificates.
    #[arg(long = "public-url")]
    pub(crate) public_url: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct SigstoreTokenArgs {
    /// Data directory of the instance.
    #[arg(long = "data-dir", value_name = "DIR")]
    pub(crate) data_dir: PathBuf,
    /// E-mail identity to certify.
    #[arg(long, conflicts_with = "subject")]
    pub(crate) email: Option<String>,
    /// URI identity to certify instead of an e-mail (e.g. https://hub.example/alice).
    #[arg(long)]
    pub(crate) subject: Option<String>,
    /// Token lifetime in seconds.
    #[arg(long = "ttl", default_value_t = 600)]
    pub(crate) ttl_seconds: u64,
    /// Issuer URL, if the instance has never been started with this data directory.
    #[arg(long = "public-url")]
    pub(crate) public_url: Option<String>,
}
