//! `hallmark hub serve` and `hallmark hub admin …`: run the model hub, and operate on
//! its data directory (usable while the server runs: both open the same SQLite file).
//! A tokio runtime is built only for these subcommands.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use hallmark_hub::{HubConfig, admin};
use hallmark_store::{Role, TokenScope};

use crate::{EXIT_FAILED, EXIT_INPUT};

/// `hallmark hub …`
#[derive(Debug, Subcommand)]
pub(crate) enum HubCommand {
    /// Run the hub: HF-compatible API, signed uploads, web UI. The first start creates
    /// the database, blob store and signing key and prints a one-time admin token.
    Serve(ServeArgs),
    /// Operator commands on the hub's data directory.
    Admin(AdminArgs),
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
    data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// URL users reach the hub at; signer identities are {public-url}/{username}.
    /// Default: http://{listen address}.
    #[arg(long = "public-url", alias = "public_url")]
    public_url: Option<String>,
    /// Largest accepted file in bytes.
    #[arg(long = "max-file-size", default_value_t = 1 << 40)]
    max_file_size: u64,
    /// Do not fsync blobs before acknowledging them (faster, not crash-durable).
    #[arg(long = "no-fsync")]
    no_fsync: bool,
    /// Metadata database: postgres://user[:pass]@host[:port]/db (shared by replicas).
    /// Default: SQLite hub.db in the data directory.
    #[arg(long, env = "HALLMARK_HUB_DATABASE")]
    database: Option<String>,
    /// Blob store: s3://bucket[/prefix]?endpoint=URL&region=R (credentials from
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). Default: blobs/ in the data directory.
    #[arg(
        long = "blob-store",
        alias = "blob_store",
        env = "HALLMARK_HUB_BLOB_STORE"
    )]
    blob_store: Option<String>,
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
    data_dir: PathBuf,
    /// Metadata database of the hub (as for `hub serve --database`).
    #[arg(long, env = "HALLMARK_HUB_DATABASE", global = true)]
    database: Option<String>,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// Organisations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Print a new API token for a user (shown once), or revoke one.
    Token(TokenArgs),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
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
        /// Make the user a hub administrator.
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
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
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum RoleArg {
    Owner,
    Maintainer,
    Reader,
    None,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ScopeArg {
    Read,
    Write,
}

#[derive(Debug, Args)]
struct TokenArgs {
    /// User the token is for.
    name: String,
    /// What the token may do.
    #[arg(long, value_enum, default_value = "read")]
    scope: ScopeArg,
    /// A label shown in the token list.
    #[arg(long, default_value = "cli")]
    label: String,
    /// Revoke token number ID of this user instead of creating one.
    #[arg(long, value_name = "ID")]
    revoke: Option<i64>,
}

pub(crate) fn run(cmd: HubCommand) -> u8 {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return EXIT_INPUT;
        }
    };
    let result = rt.block_on(async {
        match cmd {
            HubCommand::Serve(a) => serve(a).await,
            HubCommand::Admin(a) => admin_cmd(a).await,
        }
    });
    match result {
        Ok(()) => 0,
        Err((code, msg)) => {
            eprintln!("Error: {msg}");
            code
        }
    }
}

type CmdResult = Result<(), (u8, String)>;

fn input(e: impl std::fmt::Display) -> (u8, String) {
    (EXIT_INPUT, e.to_string())
}

async fn serve(a: ServeArgs) -> CmdResult {
    let listener = tokio::net::TcpListener::bind(&a.listen)
        .await
        .map_err(|e| input(format!("cannot listen on {}: {e}", a.listen)))?;
    let addr = listener.local_addr().map_err(input)?;
    let public_url = a.public_url.unwrap_or_else(|| format!("http://{addr}"));
    let mut config = HubConfig::new(a.data_dir.clone(), &public_url);
    config.max_file_size = a.max_file_size;
    config.fsync = !a.no_fsync;
    config.database = a.database;
    config.blob_store = a.blob_store;
    if config.database.is_some() && config.blob_store.is_none() {
        eprintln!(
            "hallmark hub: warning: --database without --blob-store keeps model files and the log's tiles in {}: run one replica only, or give every replica the same --blob-store",
            a.data_dir.display()
        );
    }
    let opened = hallmark_hub::open(config).await.map_err(input)?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "hallmark hub: listening on http://{addr}");
    let _ = writeln!(
        out,
        "hallmark hub: public URL {public_url}, data in {}",
        a.data_dir.display()
    );
    if let Some(t) = &opened.bootstrap_token {
        let _ = writeln!(
            out,
            "hallmark hub: first start: admin bootstrap token (shown once, store it now): {t}"
        );
    }
    let _ = out.flush();
    drop(out);
    hallmark_hub::serve(opened.state, listener)
        .await
        .map_err(|e| (EXIT_FAILED, e.to_string()))
}

async fn admin_cmd(a: AdminArgs) -> CmdResult {
    let mut config = HubConfig::new(a.data_dir.clone(), "http://localhost");
    config.database = a.database;
    let meta = hallmark_hub::open_meta(&config).await.map_err(input)?;
    let meta = &*meta;
    match a.command {
        AdminCommand::User(UserCommand::Add {
            name,
            email,
            password_stdin,
            admin: is_admin,
        }) => {
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).map_err(input)?;
                Some(s.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            admin::add_user(meta, &name, email.as_deref(), password, is_admin)
                .await
                .map_err(input)?;
            println!("user {name} added");
        }
        AdminCommand::Org(OrgCommand::Add { org, owner }) => {
            admin::add_org(meta, &org, &owner).await.map_err(input)?;
            println!("organisation {org} added, owned by {owner}");
        }
        AdminCommand::Org(OrgCommand::Member { org, name, role }) => {
            let role = match role {
                RoleArg::Owner => Some(Role::Owner),
                RoleArg::Maintainer => Some(Role::Maintainer),
                RoleArg::Reader => Some(Role::Reader),
                RoleArg::None => None,
            };
            admin::set_member(meta, &org, &name, role)
                .await
                .map_err(input)?;
            match role {
                Some(r) => println!("{name} is now {r} of {org}"),
                None => println!("{name} removed from {org}"),
            }
        }
        AdminCommand::Token(t) => {
            if let Some(id) = t.revoke {
                admin::revoke_token(meta, &t.name, id)
                    .await
                    .map_err(input)?;
                println!("token #{id} of {} revoked", t.name);
            } else {
                let scope = match t.scope {
                    ScopeArg::Read => TokenScope::Read,
                    ScopeArg::Write => TokenScope::Write,
                };
                let (secret, id) = admin::new_token(meta, &t.name, scope, &t.label)
                    .await
                    .map_err(input)?;
                eprintln!(
                    "token #{id} for {} ({}); shown once:",
                    t.name,
                    scope.as_str()
                );
                println!("{secret}");
            }
        }
    }
    Ok(())
}
