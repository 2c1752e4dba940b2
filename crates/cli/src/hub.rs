//! `hallmark hub serve` and `hallmark hub admin …`: run the model hub, and operate on
//! its data directory (usable while the server runs: both open the same SQLite file).
//! A tokio runtime is built only for these subcommands.

use std::io::{Read as _, Write as _};

use anyhow::Context as _;
use hallmark_hub::{HubConfig, admin};
use hallmark_store::{Role, TokenScope};

use crate::args::hub::{
    AdminArgs, AdminCommand, HubCommand, OrgCommand, RoleArg, ScopeArg, ServeArgs, UserCommand,
};
use crate::util::{Failure, OrExit as _, Outcome};

pub(crate) fn run(cmd: HubCommand) -> Outcome {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .or_input()?;
    rt.block_on(async {
        match cmd {
            HubCommand::Serve(a) => serve(a).await,
            HubCommand::Admin(a) => admin_cmd(a).await,
        }
    })?;
    Ok(0)
}

type CmdResult = Result<(), Failure>;

/// Prints the services' log lines (failed logins, refusals: `info` and above) to stderr.
pub(crate) fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .with_ansi(false)
        .try_init();
}

async fn serve(a: ServeArgs) -> CmdResult {
    init_logging();
    let listener = tokio::net::TcpListener::bind(&a.listen)
        .await
        .with_context(|| format!("cannot listen on {}", a.listen))
        .or_input()?;
    let addr = listener.local_addr().or_input()?;
    let public_url = a.public_url.unwrap_or_else(|| format!("http://{addr}"));
    let mut config = HubConfig::new(a.data_dir.clone(), &public_url);
    config.max_file_size = a.max_file_size;
    config.fsync = !a.no_fsync;
    config.database = a.database;
    config.blob_store = a.blob_store;
    config.trusted_proxy_header = a.trusted_proxy_header.map(|h| h.to_ascii_lowercase());
    if config.database.is_some() && config.blob_store.is_none() {
        eprintln!(
            "hallmark hub: warning: --database without --blob-store keeps model files and the log's tiles in {}: run one replica only, or give every replica the same --blob-store",
            a.data_dir.display()
        );
    }
    let opened = hallmark_hub::open(config).await.or_input()?;
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
        .or_failed()
}

async fn admin_cmd(a: AdminArgs) -> CmdResult {
    let mut config = HubConfig::new(a.data_dir.clone(), "http://localhost");
    config.database = a.database;
    config.blob_store = a.blob_store;
    let meta = hallmark_hub::open_meta(&config).await.or_input()?;
    let meta = &*meta;
    match a.command {
        AdminCommand::Gc { grace_hours } => {
            let blobs = hallmark_hub::open_blobs(&config).or_input()?;
            let grace = std::time::Duration::from_secs(grace_hours.saturating_mul(3600));
            let r = hallmark_hub::gc::collect_garbage(meta, &blobs, grace)
                .await
                .or_input()?;
            println!(
                "examined {} blobs older than {grace_hours} h: deleted {} unreferenced ({} bytes)",
                r.examined, r.deleted, r.bytes_freed
            );
        }
        AdminCommand::User(UserCommand::Add {
            name,
            email,
            password_stdin,
            admin: is_admin,
        }) => {
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).or_input()?;
                Some(s.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            admin::add_user(meta, &name, email.as_deref(), password, is_admin)
                .await
                .or_input()?;
            println!("user {name} added");
        }
        AdminCommand::Org(OrgCommand::Add { org, owner }) => {
            admin::add_org(meta, &org, &owner).await.or_input()?;
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
                .or_input()?;
            match role {
                Some(r) => println!("{name} is now {r} of {org}"),
                None => println!("{name} removed from {org}"),
            }
        }
        AdminCommand::Token(t) => {
            if let Some(id) = t.revoke {
                admin::revoke_token(meta, &t.name, id).await.or_input()?;
                println!("token #{id} of {} revoked", t.name);
            } else {
                let scope = match t.scope {
                    ScopeArg::Read => TokenScope::Read,
                    ScopeArg::Write => TokenScope::Write,
                };
                let (secret, id) = admin::new_token(meta, &t.name, scope, &t.label)
                    .await
                    .or_input()?;
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
