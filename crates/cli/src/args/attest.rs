//! `hallmark attest train|verify` options.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use hallmark_provenance::LOCAL_BUILDER_ID;

use super::bom::LineageArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum AttestCommand {
    /// Record how a model was trained: in-toto statement with SLSA provenance v1 (ML
    /// training buildType), datasets and base model by digest, signed as a DSSE bundle.
    Train(Box<TrainArgs>),
    /// Verify a training provenance bundle, and that it names the model (and datasets) on disk.
    Verify(AttestVerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    /// The trained model (directory or file).
    #[arg(long)]
    pub(crate) model: PathBuf,
    #[command(flatten)]
    pub(crate) lineage: LineageArgs,
    /// Training code: [REPOSITORY@]COMMIT (full git commit id).
    #[arg(long, value_name = "[REPO@]COMMIT")]
    pub(crate) code: String,
    /// Entry point of the training code (script, module or command).
    #[arg(long = "entry-point")]
    pub(crate) entry_point: Option<String>,
    /// Hyperparameter or configuration value KEY=VALUE (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub(crate) param: Vec<String>,
    /// Requested hardware class, e.g. 1xA100-80GB.
    #[arg(long)]
    pub(crate) hardware: Option<String>,
    /// builder.id: the trainer's identity URI.
    #[arg(long = "builder-id", default_value = LOCAL_BUILDER_ID)]
    pub(crate) builder_id: String,
    /// Identifier of the training run.
    #[arg(long = "invocation-id")]
    pub(crate) invocation_id: Option<String>,
    /// When training started (RFC 3339 UTC, e.g. 2026-11-25T10:00:00Z).
    #[arg(long = "started-on", value_name = "TIME")]
    pub(crate) started_on: Option<String>,
    /// Private key (PEM) that signs the provenance.
    #[arg(
        long = "key",
        alias = "private-key",
        value_name = "KEY.pem",
        required_unless_present = "trust_config"
    )]
    pub(crate) key: Option<PathBuf>,
    /// Certificate of --key (certificate method); intermediates with --certificate-chain.
    #[arg(
        long = "signing-certificate",
        value_name = "CERT.pem",
        requires = "key"
    )]
    pub(crate) signing_certificate: Option<PathBuf>,
    /// Intermediate certificates to embed (repeatable).
    #[arg(
        long = "certificate-chain",
        value_name = "CHAIN.pem",
        requires = "signing_certificate"
    )]
    pub(crate) certificate_chain: Vec<PathBuf>,
    /// Sign keylessly with the Sigstore instance this ClientTrustConfig names.
    #[arg(long = "trust-config", value_name = "FILE", conflicts_with = "key")]
    pub(crate) trust_config: Option<PathBuf>,
    /// OIDC identity token for keyless signing (default: $SIGSTORE_ID_TOKEN).
    #[arg(long = "identity-token", value_name = "JWT", requires = "trust_config")]
    pub(crate) identity_token: Option<String>,
    /// Where to write the bundle.
    #[arg(long, short = 'o', default_value = "provenance.json")]
    pub(crate) output: PathBuf,
    /// Print a machine-readable JSON result on standard output.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct AttestVerifyArgs {
    /// The provenance bundle.
    pub(crate) attestation: PathBuf,
    /// The model it must name (re-hashed and compared with the subject).
    #[arg(long)]
    pub(crate) model: Option<PathBuf>,
    /// Datasets or base models on disk that must be among the resolved dependencies (repeatable).
    #[arg(long, value_name = "DIR")]
    pub(crate) input: Vec<PathBuf>,
    /// Public key the provenance must be signed with.
    #[arg(
        long = "public-key",
        value_name = "PUB.pem",
        required_unless_present = "certificate_roots"
    )]
    pub(crate) public_key: Option<PathBuf>,
    /// Trusted root certificates (certificate method; repeatable).
    #[arg(
        long = "certificate-roots",
        value_name = "ROOTS.pem",
        conflicts_with = "public_key"
    )]
    pub(crate) certificate_roots: Vec<PathBuf>,
    /// Print the verified statement and checks as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}
