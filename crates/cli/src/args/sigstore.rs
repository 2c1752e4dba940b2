//! `hallmark sigstore serve|token` options (a private Sigstore instance).

use std::path::PathBuf;

use clap::{Args, Subcommand};

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
    /// Require `Authorization: Bearer <token>` on every log write (`POST
    /// /api/v1/log/entries`); the token is the file's content (at least 16 characters).
    /// Stock clients (model_signing) send none: leave it unset if they sign here;
    /// `hallmark sign sigstore` sends $HALLMARK_LOG_WRITE_TOKEN.
    #[arg(
        long = "log-write-token-file",
        env = "HALLMARK_LOG_WRITE_TOKEN_FILE",
        value_name = "FILE"
    )]
    pub(crate) log_write_token_file: Option<PathBuf>,
    /// Also log entries whose certificate this instance's CA did not issue (by default
    /// every verifier must chain to this instance's CA and be valid now).
    #[arg(long = "log-accept-foreign-certificates")]
    pub(crate) log_accept_foreign_certificates: bool,
    /// Also log entries verified by a bare public key instead of a certificate.
    #[arg(long = "log-accept-public-keys")]
    pub(crate) log_accept_public_keys: bool,
    /// Log writes each client (IPv4 address or IPv6 /64) may make at once.
    #[arg(long = "log-write-burst", default_value_t = 30, value_name = "N")]
    pub(crate) log_write_burst: u32,
    /// Log writes per minute each client may make on average (0: no limit). Behind a
    /// reverse proxy every client has the proxy's address: limit at the proxy instead.
    #[arg(long = "log-writes-per-minute", default_value_t = 60, value_name = "N")]
    pub(crate) log_writes_per_minute: u32,
    #[command(flatten)]
    pub(crate) witnesses: LogWitnessArgs,
    #[command(flatten)]
    pub(crate) log_key: LogKeyArgs,
}

/// The key type of logs this start creates (`sigstore serve`, `hub serve`).
#[derive(Debug, Args)]
pub(crate) struct LogKeyArgs {
    /// Key type of the transparency logs created on this start (a log keeps the key it
    /// was created with). Default: ecdsa-p256 for the Rekor v1 log (as Rekor v1), ed25519
    /// for the Rekor v2 log (as Rekor v2; C2SP witnesses need no other type). The trust
    /// config names each log's type (keyDetails PKIX_ECDSA_P256_SHA_256 or PKIX_ED25519)
    /// and, for Ed25519, its C2SP key ID as logId.
    #[arg(
        long = "log-key-type",
        value_name = "TYPE",
        value_parser = clap::builder::TypedValueParser::map(
            clap::builder::PossibleValuesParser::new(
                hallmark_tlog::LogKeyType::ALL.map(hallmark_tlog::LogKeyType::name)
            ),
            |s| s.parse::<hallmark_tlog::LogKeyType>().unwrap_or_default()
        )
    )]
    pub(crate) log_key_type: Option<hallmark_tlog::LogKeyType>,
}

/// Witnesses of the log (`sigstore serve`, `hub serve`).
#[derive(Debug, Args)]
pub(crate) struct LogWitnessArgs {
    /// Witnesses that cosign the log's checkpoints: a C2SP witness policy file (`witness
    /// NAME VKEY URL` lines, `group NAME K MEMBERS…`, `quorum NAME`). Each new checkpoint
    /// is sent to every witness with a URL (C2SP add-checkpoint) and published at
    /// /checkpoint with the cosignatures it got; a witness that is down never stops the
    /// log (it shows in /readyz). /witness-policy serves the file after the logs' vkeys,
    /// for clients to pin (--witness-policy).
    #[arg(
        long = "witness-config",
        env = "HALLMARK_WITNESS_CONFIG",
        value_name = "FILE"
    )]
    pub(crate) witness_config: Option<PathBuf>,
    /// How long one round of cosigning may take, in milliseconds, before the checkpoint
    /// goes out with the cosignatures it got.
    #[arg(
        long = "witness-deadline-ms",
        default_value_t = 3000,
        value_name = "MS"
    )]
    pub(crate) witness_deadline_ms: u64,
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
    /// Print a JSON object (token, subject, issuer, audience, expires_at) instead of the
    /// bare token.
    #[arg(long)]
    pub(crate) json: bool,
    /// Issuer URL, if the instance has never been started with this data directory.
    #[arg(long = "public-url")]
    pub(crate) public_url: Option<String>,
}
