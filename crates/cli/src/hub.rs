//! `hallmark hub serve` and `hallmark hub admin …`: run the model hub, and operate on
//! its data directory (usable while the server runs: both open the same SQLite file).
//! A tokio runtime is built only for these subcommands.

use std::io::{Read as _, Write as _};

use anyhow::Context as _;
use hallmark_hub::HubConfig;
use hallmark_hub::admin::{self, NewToken, Operator};
use hallmark_hub::auth::TokenLifetime;
use hallmark_store::{Role, TokenScope};

use crate::args::hub::{
    AdminArgs, AdminCommand, HubCommand, OrgCommand, RefuseScanArg, RepoCommand, RoleArg, ScopeArg,
    ServeArgs, TokenArgs, UserCommand,
};
use crate::util::{Failure, OrExit as _, Outcome};

pub(crate) fn run(cmd: HubCommand) -> Outcome {
    crate::serve::runtime()?.block_on(async {
        match cmd {
            HubCommand::Serve(a) => serve(a).await,
            HubCommand::Admin(a) => admin_cmd(a).await,
            HubCommand::Export(a) => crate::hubexport::run(a).await,
            HubCommand::Query(q) => crate::hubquery::run(&q).map(drop),
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
    let listener = crate::serve::bind(&a.listen).await?;
    let addr = listener.local_addr().or_input()?;
    let public_url = a.public_url.unwrap_or_else(|| format!("http://{addr}"));
    let mut config = HubConfig::new(a.data_dir.clone(), &public_url);
    config.max_file_size = a.max_file_size;
    config.fsync = !a.no_fsync;
    config.database = a.database;
    config.blob_store = a.blob_store;
    config.trusted_proxy_header = a.trusted_proxy_header.map(|h| h.to_ascii_lowercase());
    config.witnessing = witness_config(&a.witnesses)?;
    config.log_key_type = a.log_key.log_key_type;
    config.scrub = hallmark_hub::scrub::ScrubSettings {
        rate: a.scrub_rate,
        interval: std::time::Duration::from_secs(a.scrub_interval),
    };
    config.incident_webhook = a.incident_webhook;
    config.monitor_interval =
        (a.monitor_interval > 0).then(|| std::time::Duration::from_secs(a.monitor_interval));
    if config.database.is_some() && config.blob_store.is_none() {
        errln!(
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

fn read_password() -> Result<String, Failure> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).or_input()?;
    Ok(s.trim_end_matches(['\r', '\n']).to_owned())
}

async fn admin_cmd(a: AdminArgs) -> CmdResult {
    let mut config = HubConfig::new(a.data_dir.clone(), "http://localhost");
    config.database = a.database;
    config.blob_store = a.blob_store;
    // Never a fresh database: a missing --data-dir must not make a second, empty hub.
    let meta = hallmark_hub::open_existing_meta(&config).await.or_input()?;
    let actor = admin::cli_actor();
    let op = Operator::new(&*meta, &actor);
    match a.command {
        AdminCommand::User(u) => user_cmd(op, u).await?,
        AdminCommand::Gc { grace_hours } => {
            let blobs = hallmark_hub::open_blobs(&config).or_input()?;
            let grace = std::time::Duration::from_secs(grace_hours.saturating_mul(3600));
            let r = hallmark_hub::gc::collect_garbage(&*meta, &blobs, grace, &actor)
                .await
                .or_input()?;
            outln!(
                "examined {} blobs older than {grace_hours} h: deleted {} unreferenced ({} bytes)",
                r.examined,
                r.deleted,
                r.bytes_freed
            );
        }
        AdminCommand::Rescan { repo, all, force } => {
            rescan_cmd(
                &config,
                &*meta,
                &actor,
                repo.as_deref().filter(|_| !all),
                force,
            )
            .await?;
        }
        AdminCommand::Org(OrgCommand::Add { org, owner }) => {
            op.add_org(&org, &owner).await.or_input()?;
            outln!("organisation {org} added, owned by {owner}");
        }
        AdminCommand::Org(OrgCommand::Member { org, name, role }) => {
            let role = match role {
                RoleArg::Owner => Some(Role::Owner),
                RoleArg::Maintainer => Some(Role::Maintainer),
                RoleArg::Reader => Some(Role::Reader),
                RoleArg::None => None,
            };
            op.set_member(&org, &name, role).await.or_input()?;
            match role {
                Some(r) => outln!("{name} is now {r} of {org}"),
                None => outln!("{name} removed from {org}"),
            }
        }
        AdminCommand::Org(OrgCommand::Set { org, refuse_scan }) => {
            use hallmark_store::ScanVerdict;
            let from = match refuse_scan {
                RefuseScanArg::Dangerous => Some(ScanVerdict::Dangerous),
                RefuseScanArg::Suspicious => Some(ScanVerdict::Suspicious),
                RefuseScanArg::Unverified => Some(ScanVerdict::Unverified),
                RefuseScanArg::Off => None,
            };
            op.set_scan_refusal(&org, from).await.or_input()?;
            match from {
                Some(v) => outln!("{org} now refuses uploads scanned {v} or worse"),
                None => outln!("{org} refuses no upload for its scan verdict"),
            }
        }
        AdminCommand::Org(OrgCommand::Trust {
            org,
            public_key,
            certificate_chain,
            identity,
            issuer,
            remove,
        }) => {
            crate::orgtrust::org_trust(
                &op,
                &org,
                crate::orgtrust::TrustChange {
                    public_key,
                    certificate_chain,
                    identity,
                    issuer,
                    remove,
                },
            )
            .await?;
        }
        AdminCommand::Org(OrgCommand::Watch(w)) => crate::orgwatch::org_watch(&op, w).await?,
        AdminCommand::Token(t) => token_cmd(op, t).await?,
        AdminCommand::TokenLifetime { days, never: _ } => {
            op.set_default_token_days(days).await.or_input()?;
            match days {
                Some(d) => outln!("new tokens expire after {d} days"),
                None => outln!("new tokens never expire"),
            }
        }
        AdminCommand::Repo(RepoCommand::Delete { repo }) => {
            let (owner, name) = repo
                .split_once('/')
                .ok_or_else(|| anyhow::anyhow!("{repo:?} is not owner/name"))
                .or_input()?;
            op.delete_repo(owner, name).await.or_input()?;
            outln!(
                "repository {repo} deleted (blobs no other revision uses go at the next `hub admin gc`)"
            );
        }
        AdminCommand::Audit { limit } => {
            for e in op.events(limit).await.or_failed()? {
                outln!(
                    "{}\t{}\t{}\t{}\t{}",
                    hallmark_hub::time::rfc3339(e.at),
                    e.actor,
                    e.action,
                    e.target,
                    e.detail
                );
            }
        }
    }
    Ok(())
}

async fn user_cmd(op: Operator<'_>, cmd: UserCommand) -> CmdResult {
    match cmd {
        UserCommand::Add {
            name,
            email,
            password_stdin,
            admin: is_admin,
        } => {
            let password = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            op.add_user(&name, email.as_deref(), password, is_admin)
                .await
                .or_input()?;
            outln!("user {name} added");
        }
        UserCommand::List => {
            for u in op.list_users().await.or_failed()? {
                let admin = if u.is_admin { "admin" } else { "-" };
                let state = u.disabled_at.map_or_else(
                    || "enabled".to_owned(),
                    |t| format!("disabled since {}", hallmark_hub::time::rfc3339(t)),
                );
                outln!("{}\t{admin}\t{state}", u.name);
            }
        }
        UserCommand::Disable { name } => {
            op.set_disabled(&name, true).await.or_input()?;
            outln!("user {name} disabled: tokens and sessions refused, nothing signed for them");
        }
        UserCommand::Enable { name } => {
            op.set_disabled(&name, false).await.or_input()?;
            outln!("user {name} enabled");
        }
        UserCommand::Password { name } => {
            op.reset_password(&name, read_password()?)
                .await
                .or_input()?;
            outln!("password of {name} set; their sessions ended");
        }
        UserCommand::Logout { name } => {
            let n = op.revoke_sessions(&name).await.or_input()?;
            outln!("{n} sessions of {name} ended");
        }
        UserCommand::GrantAdmin { name } => {
            op.set_admin(&name, true).await.or_input()?;
            outln!("{name} is now a hub administrator");
        }
        UserCommand::RevokeAdmin { name } => {
            op.set_admin(&name, false).await.or_input()?;
            outln!("{name} is no longer a hub administrator");
        }
    }
    Ok(())
}

async fn token_cmd(op: Operator<'_>, t: TokenArgs) -> CmdResult {
    if let Some(id) = t.revoke {
        op.revoke_token(&t.name, id).await.or_input()?;
        if t.json {
            outln!("{}", serde_json::json!({ "revoked": id, "user": t.name }));
        } else {
            outln!("token #{id} of {} revoked", t.name);
        }
        return Ok(());
    }
    let scope = match t.scope {
        ScopeArg::Read => TokenScope::Read,
        ScopeArg::Write => TokenScope::Write,
    };
    let lifetime = match (t.expires_in_days, t.never_expires) {
        (Some(d), _) => TokenLifetime::Days(d),
        (None, true) => TokenLifetime::Never,
        (None, false) => TokenLifetime::Default,
    };
    let (secret, id, expires) = op
        .new_token(&NewToken {
            user: &t.name,
            scope,
            label: &t.label,
            lifetime,
        })
        .await
        .or_input()?;
    if t.json {
        let out = serde_json::json!({
            "token": secret.as_str(),
            "id": id,
            "user": t.name,
            "scope": scope.as_str(),
            "expires_at": expires.map(hallmark_hub::time::rfc3339),
        });
        outln!("{out}");
        return Ok(());
    }
    let expiry = expires.map_or_else(
        || "never expires".to_owned(),
        |e| format!("expires {}", hallmark_hub::time::rfc3339(e)),
    );
    errln!(
        "token #{id} for {} ({}, {expiry}); shown once:",
        t.name,
        scope.as_str()
    );
    outln!("{secret}");
    Ok(())
}

async fn rescan_cmd(
    config: &HubConfig,
    meta: &dyn hallmark_store::MetaStore,
    actor: &str,
    repo: Option<&str>,
    force: bool,
) -> CmdResult {
    use hallmark_hub::rescan::{RescanScope, repo_named, rescan};
    let blobs = hallmark_hub::open_blobs(config).or_input()?;
    let scanner = hallmark_hub::scan::RevisionScanner::new(&config.scan);
    let named = match repo {
        Some(r) => Some(repo_named(meta, r).await.or_input()?),
        None => None,
    };
    let scope = named.as_ref().map_or(RescanScope::All, RescanScope::Repo);
    let r = rescan(meta, &blobs, &scanner, actor, scope, force)
        .await
        .or_input()?;
    for c in &r.changed {
        outln!(
            "{}@{}: {} -> {} (policy {} -> {})",
            c.repo,
            c.commit,
            c.from.map_or("none", hallmark_store::ScanVerdict::as_str),
            c.to,
            c.from_policy.as_deref().unwrap_or("none"),
            c.to_policy
        );
    }
    outln!(
        "examined {} revisions: rescanned {}, {} changed",
        r.examined,
        r.rescanned,
        r.changed.len()
    );
    Ok(())
}

/// The log's witnesses from `--witness-config` (none without it).
pub(crate) fn witness_config(
    a: &crate::args::sigstore::LogWitnessArgs,
) -> Result<hallmark_instance::WitnessConfig, Failure> {
    let deadline = std::time::Duration::from_millis(a.witness_deadline_ms.max(1));
    let Some(path) = &a.witness_config else {
        return Ok(hallmark_instance::WitnessConfig {
            deadline,
            ..hallmark_instance::WitnessConfig::default()
        });
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the witness config {}", path.display()))
        .or_input()?;
    hallmark_instance::witness_config(&text, deadline)
        .with_context(|| format!("witness config {}", path.display()))
        .or_input()
}
