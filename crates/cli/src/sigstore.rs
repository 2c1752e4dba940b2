//! `hallmark sigstore serve|token`: a private Sigstore instance (OIDC issuer, CA,
//! transparency log). The client side of keyless signing is in `keyless`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow};

use crate::args::sigstore::{SigstoreCommand, SigstoreServeArgs, SigstoreTokenArgs};
use crate::util::{Failure, OrExit as _, Outcome};

const PUBLIC_URL_FILE: &str = "public-url";

pub(crate) fn run(cmd: SigstoreCommand) -> Outcome {
    match cmd {
        SigstoreCommand::Serve(a) => serve(&a),
        SigstoreCommand::Token(a) => token(&a),
    }
}

/// The log write policy the flags ask for.
fn log_writes(a: &SigstoreServeArgs) -> Result<hallmark_instance::LogWrites, Failure> {
    let mut w = hallmark_instance::LogWrites::open();
    if let Some(path) = &a.log_write_token_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the log write token file {}", path.display()))
            .or_input()?;
        let token = hallmark_instance::WriteToken::new(&text)
            .ok_or_else(|| {
                anyhow!(
                    "the log write token in {} is shorter than {} characters",
                    path.display(),
                    hallmark_instance::WriteToken::MIN_LEN
                )
            })
            .or_input()?;
        w.access = hallmark_instance::WriteAccess::Token(token);
    }
    w.accept_foreign_certificates = a.log_accept_foreign_certificates;
    w.accept_public_keys = a.log_accept_public_keys;
    w.rate = (a.log_writes_per_minute > 0).then_some(hallmark_instance::Rate {
        burst: a.log_write_burst.max(1),
        per_minute: a.log_writes_per_minute,
    });
    Ok(w)
}

fn serve(a: &SigstoreServeArgs) -> Outcome {
    let writes = log_writes(a)?;
    let public_url = a
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", a.listen));
    let mut cfg = hallmark_instance::InstanceConfig::new(&a.data_dir, &public_url);
    cfg.witnessing = crate::hub::witness_config(&a.witnesses)?;
    cfg.log_key_type = a.log_key.log_key_type;
    let instance = hallmark_instance::Instance::open(cfg)
        .with_context(|| format!("cannot open the instance in {}", a.data_dir.display()))
        .or_input()?;
    let instance = Arc::new(instance);
    let _ = std::fs::write(a.data_dir.join(PUBLIC_URL_FILE), instance.public_url());
    let tc_path = a.data_dir.join("trust-config.json");
    std::fs::write(
        &tc_path,
        serde_json::to_vec_pretty(&instance.trust_config()).unwrap_or_default(),
    )
    .with_context(|| format!("cannot write {}", tc_path.display()))
    .or_input()?;
    crate::hub::init_logging();
    crate::serve::runtime()?.block_on(async move {
        let listener = crate::serve::bind(&a.listen).await?;
        errln!(
            "hallmark sigstore instance at {} (OIDC issuer, Fulcio v2, Rekor v1)",
            instance.public_url()
        );
        errln!(
            "trust config: {}/trust-config.json (also {})",
            instance.public_url(),
            tc_path.display()
        );
        let app = hallmark_instance::router(Arc::clone(&instance), writes)
            .merge(hallmark_instance::health_router(Arc::clone(&instance)));
        crate::serve::until_interrupted(listener, app).await
    })
}

fn token(a: &SigstoreTokenArgs) -> Outcome {
    let public_url = match &a.public_url {
        Some(u) => u.clone(),
        None => std::fs::read_to_string(a.data_dir.join(PUBLIC_URL_FILE))
            .map(|u| u.trim().to_owned())
            .map_err(|_| {
                anyhow!(
                    "{} has no {PUBLIC_URL_FILE}: start `hallmark sigstore serve` once, or pass --public-url",
                    a.data_dir.display()
                )
            })
            .or_input()?,
    };
    let keys =
        hallmark_oidc::KeyRing::load_or_create(&a.data_dir.join("oidc"), Duration::from_secs(1200))
            .or_input()?;
    let issuer = hallmark_oidc::Issuer::new(&public_url, keys);
    let (subject, email) = match (&a.email, &a.subject) {
        (Some(e), _) => (e.clone(), Some(e.as_str())),
        (None, Some(s)) => (s.clone(), None),
        (None, None) => {
            return Err(Failure::input(anyhow!(
                "give --email E (an e-mail identity) or --subject URL (a URI identity)"
            )));
        }
    };
    let token = issuer
        .mint(
            &subject,
            email,
            hallmark_oidc::SIGSTORE_AUDIENCE,
            Duration::from_secs(a.ttl_seconds),
        )
        .or_input()?;
    if a.json {
        let expires = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            .saturating_add(a.ttl_seconds);
        let out = serde_json::json!({
            "token": token,
            "subject": subject,
            "issuer": public_url,
            "audience": hallmark_oidc::SIGSTORE_AUDIENCE,
            "expires_at": hallmark_hub::time::rfc3339(i64::try_from(expires).unwrap_or(i64::MAX)),
        });
        outln!("{out}");
        return Ok(0);
    }
    outln!("{token}");
    Ok(0)
}
