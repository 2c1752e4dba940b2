//! `hallmark hub admin org watch ORG [--rules FILE | --identity ID… --identity-regex RE…
//! --expected-issuer URL --first-signer | --clear]`: the organisation's log watch list,
//! which the hub's monitor applies to its transparency log; without an option, the list.

use hallmark_hub::admin::Operator;
use hallmark_hub::watch::WatchFile;

use crate::args::hub::OrgWatchArgs;
use crate::util::{Failure, OrExit as _, read_input};

fn file_of(c: OrgWatchArgs) -> Result<Option<WatchFile>, Failure> {
    if let Some(p) = &c.rules {
        let text = read_input("watch list", p).or_input()?;
        let text = String::from_utf8(text)
            .map_err(|_| anyhow::anyhow!("watch list {} is not text", p.display()))
            .or_input()?;
        return Ok(Some(hallmark_hub::watch::parse(&text).or_input()?));
    }
    if c.clear {
        return Ok(Some(WatchFile::default()));
    }
    let w = &c.watch;
    if w.identity.is_empty() && w.identity_regex.is_empty() && !w.first_signer {
        return Ok(None);
    }
    let mut file = WatchFile {
        rules: Vec::new(),
        first_signer: w.first_signer,
    };
    file.watch_identities(&w.identity, &w.identity_regex, w.expected_issuer.as_deref());
    Ok(Some(file))
}

/// Runs the command.
pub(crate) async fn org_watch(op: &Operator<'_>, c: OrgWatchArgs) -> Result<(), Failure> {
    let org = c.org.clone();
    if let Some(file) = file_of(c)? {
        op.set_watch(&org, &file).await.or_input()?;
    }
    let v = op.watch_json(&org).await.or_input()?;
    outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    Ok(())
}
