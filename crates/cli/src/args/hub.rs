//! `hallmark hub serve|admin` options.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

/// `hallmark hub …`
#[derive(Debug, Subcommand)]
pub(crate) enum HubCommand {
    /// Run the hub: HF-compatible API, signed uploads, web UI. The first start creates
    /// the database, blob store and signing key and prints a one-time admin token.
    Serve(ServeArgs),
    /// Operator commands on the hub's data directory.
    Admin(AdminArgs),
    /// Export revisions for a supply-chain graph (GUAC): per revision a CycloneDX 1.6
    /// ML-BOM, an SPDX 3.0.1 AI/Dataset document, the claims' in-toto statements and
    /// Sigstore bundles as stored, plus index.json; written atomically into DIR.
    Export(ExportArgs),
    /// Incident-response queries against a running hub: who signed what, which
    /// revisions a dataset, base model, file or scanner rule affects.
    #[command(subcommand)]
    Query(crate::args::query::QueryCommand),
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// Data directory of the hub.
    #[arg(
        long = "data-dir",
        alias = "data_dir",
        env = "HALLMARK_HUB_DATA",
        default_value = "hallmark-hub"
    )]
    pub(crate) data_dir: PathBuf,
    /// Metadata database of the hub (as for `hub serve --database`).
    #[arg(long, env = "HALLMARK_HUB_DATABASE")]
    pub(crate) database: Option<String>,
    /// Blob store of the hub (as for `hub serve --blob-store`).
    #[arg(long = "blob-store", env = "HALLMARK_HUB_BLOB_STORE")]
    pub(crate) blob_store: Option<String>,
    /// Revisions created at or after this RFC 3339 time (e.g. 2026-12-01T00:00:00Z).
    #[arg(long)]
    pub(crate) since: String,
    /// Revisions created before this RFC 3339 time.
    #[arg(long)]
    pub(crate) until: Option<String>,
    /// Only repositories of this user or organisation.
    #[arg(long)]
    pub(crate) org: Option<String>,
    /// Only this repository (owner/name).
    #[arg(long)]
    pub(crate) repo: Option<String>,
    /// The hub's public URL (package URLs get it as repository_url; SPDX download
    /// locations point at it). Default: the issuer of the revisions' hub signatures.
    #[arg(long = "public-url")]
    pub(crate) public_url: Option<String>,
    /// Replace DIR when it is not empty.
    #[arg(long)]
    pub(crate) force: bool,
    /// Where to write the export (created; refused when not empty unless --force).
    pub(crate) dir: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Data directory (database, blobs, keys).
    #[arg(
        long = "data-dir",
        alias = "data_dir",
        env = "HALLMARK_HUB_DATA",
        default_value = "hallmark-hub"
    )]
    pub(crate) data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: String,
    /// URL users reach the hub at; signer identities are {public-url}/{username}.
    /// Default: http://{listen address}.
    #[arg(long = "public-url", alias = "public_url")]
    pub(crate) public_url: Option<String>,
    /// Largest accepted file in bytes.
    #[arg(long = "max-file-size", default_value_t = 1 << 40)]
    pub(crate) max_file_size: u64,
    /// Do not fsync blobs before acknowledging them (faster, not crash-durable).
    #[arg(long = "no-fsync")]
    pub(crate) no_fsync: bool,
    /// Metadata database: postgres://user[:pass]@host[:port]/db (shared by replicas).
    /// Default: SQLite hub.db in the data directory.
    #[arg(long, env = "HALLMARK_HUB_DATABASE")]
    pub(crate) database: Option<String>,
    /// Blob store: s3://bucket[/prefix]?endpoint=URL&region=R (credentials from
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). Default: blobs/ in the data directory.
    #[arg(
        long = "blob-store",
        alias = "blob_store",
        env = "HALLMARK_HUB_BLOB_STORE"
    )]
    pub(crate) blob_store: Option<String>,
    /// Behind a reverse proxy: the request header it writes the client's address into
    /// (its last entry is used), e.g. x-forwarded-for. Login rate limits then count per
    /// client, not per proxy. Default: the socket peer address; set it only when every
    /// request comes through the proxy.
    #[arg(
        long = "trusted-proxy-header",
        env = "HALLMARK_HUB_TRUSTED_PROXY_HEADER"
    )]
    pub(crate) trusted_proxy_header: Option<String>,
    #[command(flatten)]
    pub(crate) witnesses: crate::args::sigstore::LogWitnessArgs,
    #[command(flatten)]
    pub(crate) log_key: crate::args::sigstore::LogKeyArgs,
    /// Re-hash stored blobs in the background at this many bytes per second on average
    /// (a blob that no longer matches fails its revisions, naming the file); 0 turns the
    /// scrubber off.
    #[arg(long = "scrub-rate", default_value_t = 64 << 20)]
    pub(crate) scrub_rate: u64,
    /// Seconds between the end of one scrub pass and the start of the next.
    #[arg(long = "scrub-interval", default_value_t = 86_400)]
    pub(crate) scrub_interval: u64,
    /// URL that incidents and log-monitor alerts are POSTed to (JSON: event, incident and
    /// affected revisions with their owners, or org and alerts), 5 s timeout; owners are
    /// also told through the audit log. It may carry a secret: only its host is ever shown.
    #[arg(
        long = "incident-webhook",
        env = "HALLMARK_HUB_INCIDENT_WEBHOOK",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub(crate) incident_webhook: Option<hallmark_hub::incident::webhook::WebhookUrl>,
    /// Seconds between two polls of the hub's transparency log for the organisations'
    /// watch lists (`hub admin org watch`); 0 turns the monitor off.
    #[arg(long = "monitor-interval", default_value_t = 60, value_name = "SECS")]
    pub(crate) monitor_interval: u64,
}

#[derive(Debug, Args)]
pub(crate) struct AdminArgs {
    /// Data directory of the hub.
    #[arg(
        long = "data-dir",
        alias = "data_dir",
        env = "HALLMARK_HUB_DATA",
        default_value = "hallmark-hub",
        global = true
    )]
    pub(crate) data_dir: PathBuf,
    /// Metadata database of the hub (as for `hub serve --database`).
    #[arg(long, env = "HALLMARK_HUB_DATABASE", global = true)]
    pub(crate) database: Option<String>,
    /// Blob store of the hub (as for `hub serve --blob-store`; used by `gc`).
    #[arg(
        long = "blob-store",
        alias = "blob_store",
        env = "HALLMARK_HUB_BLOB_STORE",
        global = true
    )]
    pub(crate) blob_store: Option<String>,
    #[command(subcommand)]
    pub(crate) command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// Organisations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Print a new API token for a user (shown once), or revoke one.
    Token(TokenArgs),
    /// Delete blobs no revision and no open upload refers to (upload sessions abandoned
    /// for a day are swept first). `hub serve` also does this every 6 hours.
    Gc {
        /// Spare blobs written less than this many hours ago (uploads in flight); at least 2.
        #[arg(long = "grace-hours", default_value_t = 24)]
        grace_hours: u64,
    },
    /// Set how long new tokens live unless their creator chooses (tokens already issued
    /// keep their expiry).
    TokenLifetime {
        /// Days; new tokens expire this many days after creation.
        #[arg(long, conflicts_with = "never", required_unless_present = "never")]
        days: Option<u32>,
        /// New tokens never expire (the default of a new hub).
        #[arg(long)]
        never: bool,
    },
    /// Repositories.
    #[command(subcommand)]
    Repo(RepoCommand),
    /// Re-scan stored revisions with this build's scanner policy, updating their verdicts
    /// (each change is recorded in the operator audit log). Revisions already judged by
    /// this policy are skipped unless --force.
    Rescan {
        /// `owner/name`: that repository's revisions.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        repo: Option<String>,
        /// Every stored revision.
        #[arg(long)]
        all: bool,
        /// Also revisions already scanned with the current policy.
        #[arg(long)]
        force: bool,
    },
    /// Print the operator audit log (every `hub admin` and admin-API action), newest first.
    Audit {
        /// At most this many events.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RepoCommand {
    /// Delete a repository: its revisions, refs and open uploads (blobs no other revision
    /// uses go at the next `hub admin gc`; transparency-log entries stay).
    Delete {
        /// `owner/name`.
        repo: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Add a user.
    Add {
        /// User name.
        name: String,
        /// E-mail address.
        #[arg(long)]
        email: Option<String>,
        /// Read a web-UI password from standard input.
        #[arg(long = "password-stdin")]
        password_stdin: bool,
        /// Make the user a hub administrator (may use /api/admin/… with a write token).
        #[arg(long)]
        admin: bool,
    },
    /// List users: name, administrator, disabled.
    List,
    /// Disable a user: their tokens and sessions are refused at once, their sessions end,
    /// and the hub signs (issues certificates) for them no more.
    Disable {
        /// User name.
        name: String,
    },
    /// Re-enable a disabled user (their tokens work again; they log in again).
    Enable {
        /// User name.
        name: String,
    },
    /// Set a user's web-UI password (read from standard input) and end their sessions.
    Password {
        /// User name.
        name: String,
    },
    /// End every web session of a user.
    Logout {
        /// User name.
        name: String,
    },
    /// Make a user a hub administrator.
    GrantAdmin {
        /// User name.
        name: String,
    },
    /// Withdraw a user's hub administration.
    RevokeAdmin {
        /// User name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum OrgCommand {
    /// Add an organisation.
    Add {
        /// Organisation name.
        org: String,
        /// Its first owner (an existing user).
        #[arg(long)]
        owner: String,
    },
    /// Set a member's role (or remove them with --role none).
    Member {
        /// Organisation.
        org: String,
        /// User.
        name: String,
        /// Role.
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Change an organisation's settings.
    Set {
        /// Organisation.
        org: String,
        /// Refuse uploads (422, nothing stored) whose scan verdict is this or worse.
        #[arg(long, value_enum)]
        refuse_scan: RefuseScanArg,
    },
    /// Set whom the organisation trusts to sign publisher signatures and attachments
    /// (claims by anyone else are kept as `untrusted`); without an option, list them.
    Trust {
        /// Organisation.
        org: String,
        /// Trust this public key (PEM).
        #[arg(long, value_name = "FILE", conflicts_with_all = ["certificate_chain", "identity", "remove"])]
        public_key: Option<std::path::PathBuf>,
        /// Trust certificates chaining to these anchors (PEM).
        #[arg(long, value_name = "FILE", conflicts_with_all = ["identity", "remove"])]
        certificate_chain: Option<std::path::PathBuf>,
        /// Trust this keyless identity (certificate SAN), with --issuer.
        #[arg(long, requires = "issuer", conflicts_with = "remove")]
        identity: Option<String>,
        /// The identity's OIDC issuer URL.
        #[arg(long, requires = "identity")]
        issuer: Option<String>,
        /// Remove the entry with this id (see the listing).
        #[arg(long, value_name = "ID")]
        remove: Option<i64>,
    },
    /// Set the organisation's log watch list (the hub's monitor reports signatures in its
    /// transparency log that match it, on the org page and at /api/orgs/ORG/watch/alerts);
    /// without an option, show it.
    Watch(OrgWatchArgs),
}

/// `hub admin org watch`.
#[derive(Debug, Args)]
pub(crate) struct OrgWatchArgs {
    /// Organisation.
    pub(crate) org: String,
    /// Replace the list with this file (JSON: {"rules": [...], "first_signer": bool}, the
    /// format of `hallmark log monitor --watch`).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["identity", "identity_regex", "first_signer", "clear"])]
    pub(crate) rules: Option<std::path::PathBuf>,
    /// Watch rules.
    #[command(flatten)]
    pub(crate) watch: super::common::WatchRuleArgs,
    /// Remove every rule.
    #[arg(long, conflicts_with_all = ["identity", "identity_regex", "first_signer"])]
    pub(crate) clear: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum RefuseScanArg {
    /// Refuse dangerous uploads.
    Dangerous,
    /// Refuse suspicious and dangerous uploads.
    Suspicious,
    /// Refuse anything not found clean.
    Unverified,
    /// Refuse nothing.
    Off,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum RoleArg {
    Owner,
    Maintainer,
    Reader,
    None,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum ScopeArg {
    Read,
    Write,
}

#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    /// User the token is for.
    pub(crate) name: String,
    /// What the token may do.
    #[arg(long, value_enum, default_value = "read")]
    pub(crate) scope: ScopeArg,
    /// A label shown in the token list.
    #[arg(long, default_value = "cli")]
    pub(crate) label: String,
    /// Revoke token number ID of this user instead of creating one.
    #[arg(long, value_name = "ID")]
    pub(crate) revoke: Option<i64>,
    /// The token expires after this many days (default: the hub's `token-lifetime`).
    #[arg(
        long = "expires-in-days",
        value_name = "DAYS",
        conflicts_with = "never_expires"
    )]
    pub(crate) expires_in_days: Option<u32>,
    /// The token never expires, whatever the hub's default.
    #[arg(long = "never-expires")]
    pub(crate) never_expires: bool,
    /// Print a JSON object (token, id, user, scope, expires_at) instead of the bare token.
    #[arg(long)]
    pub(crate) json: bool,
}
