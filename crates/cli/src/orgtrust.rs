//! `hallmark hub admin org trust ORG [--public-key FILE | --certificate-chain FILE |
//! --identity ID --issuer URL | --remove ID]`: whom an organisation trusts to sign
//! publisher signatures and attachments (the hub's claims); without an option, the list.

use std::path::{Path, PathBuf};

use hallmark_hub::admin::Operator;
use hallmark_hub::claims::trust::NewTrust;

use crate::util::{Failure, OrExit as _, read_input};

/// What the command asks for.
pub(crate) struct TrustChange {
    pub(crate) public_key: Option<PathBuf>,
    pub(crate) certificate_chain: Option<PathBuf>,
    pub(crate) identity: Option<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) remove: Option<i64>,
}

fn pem(what: &str, p: &Path) -> Result<String, Failure> {
    let bytes = read_input(what, p).or_input()?;
    String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{what} {} is not PEM text", p.display()))
        .or_input()
}

/// Runs the command.
pub(crate) async fn org_trust(op: &Operator<'_>, org: &str, c: TrustChange) -> Result<(), Failure> {
    if let Some(id) = c.remove {
        if op.trust_remove(org, id).await.or_input()? {
            outln!("{org} no longer trusts entry {id}");
            return Ok(());
        }
        return Err(Failure::input(anyhow::anyhow!(
            "{org} has no trust entry {id}"
        )));
    }
    let new = NewTrust {
        public_key: c
            .public_key
            .as_ref()
            .map(|p| pem("public key", p))
            .transpose()?,
        certificate_chain: c
            .certificate_chain
            .as_ref()
            .map(|p| pem("certificate chain", p))
            .transpose()?,
        identity: c.identity,
        issuer: c.issuer,
    };
    let adding =
        new.public_key.is_some() || new.certificate_chain.is_some() || new.identity.is_some();
    if adding {
        op.trust_add(org, &new).await.or_input()?;
    }
    let list = op.trust_list(org).await.or_input()?;
    if list.is_empty() {
        outln!("{org} trusts no publisher signer: their claims are kept as untrusted");
    }
    for t in list {
        outln!("{:>4}  {:<17} {}", t.id, t.kind, t.label);
    }
    Ok(())
}
