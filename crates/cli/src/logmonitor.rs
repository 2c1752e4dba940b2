//! `hallmark log monitor`: follow a transparency log from a saved state and report, as
//! JSON lines, the entries that concern the watch list (see `hallmark_tlog::monitor`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hallmark_tlog::monitor::rules::{WatchFile, WatchList};
use hallmark_tlog::monitor::seen::MonitorState;
use hallmark_tlog::monitor::{Alert, LogTarget, NoNames, PollReport, poll};
use hallmark_tlog::{DirFetch, Error, HttpFetch, LogVerifier, TileFetch};
use serde_json::{Value, json};

use crate::args::log::MonitorArgs;
use crate::util::{EXIT_FAILED, Failure, OrExit as _, Outcome, read_input};

/// How long one webhook POST may take.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn fetcher(log: &str) -> Arc<dyn TileFetch> {
    if log.starts_with("http://") || log.starts_with("https://") {
        Arc::new(HttpFetch::new(log))
    } else {
        Arc::new(DirFetch(PathBuf::from(log)))
    }
}

/// Whether an error means "the log is bad" (exit 1) rather than "could not check" (exit 2).
pub(crate) fn is_verdict(e: &Error) -> bool {
    !matches!(e, Error::Io { .. } | Error::Fetch { .. } | Error::Key(_))
}

pub(crate) fn run(a: &MonitorArgs) -> Outcome {
    let pem = read_input("public key", &a.public_key).or_input()?;
    let verifier = LogVerifier::from_pem(&pem)
        .with_context(|| a.public_key.display().to_string())
        .or_input()?;
    let watch = watch_list(a).or_input()?;
    let target = LogTarget {
        fetch: fetcher(&a.log),
        verifier,
        origin: a.origin.clone(),
    };
    let webhook = a
        .webhook
        .as_deref()
        .map(|url| (url, crate::http::agent(WEBHOOK_TIMEOUT)));
    let witnesses = match &a.witness_policy {
        Some(p) => Some(crate::witnessed::WitnessPolicy::load(p).or_input()?),
        None => None,
    };
    let mut worst = 0u8;
    let mut done = 0u64;
    loop {
        let code = poll_once(a, &target, &watch, witnesses.as_ref(), webhook.as_ref())?;
        worst = worst.max(code);
        done += 1;
        let Some(secs) = a.interval else { break };
        if a.polls != 0 && done >= a.polls {
            break;
        }
        std::thread::sleep(Duration::from_secs(secs));
    }
    Ok(worst)
}

fn watch_list(a: &MonitorArgs) -> anyhow::Result<WatchList> {
    let mut file = match &a.watch {
        Some(p) => serde_json::from_slice::<WatchFile>(&read_input("watch rules", p)?)
            .with_context(|| format!("watch rules {}", p.display()))?,
        None => WatchFile::default(),
    };
    let r = &a.rules;
    file.watch_identities(&r.identity, &r.identity_regex, r.expected_issuer.as_deref());
    file.first_signer |= r.first_signer;
    Ok(WatchList::compile(file)?)
}

/// One poll: prints its lines, saves the state, posts alerts; the exit status it earns.
fn poll_once(
    a: &MonitorArgs,
    target: &LogTarget,
    watch: &WatchList,
    witnesses: Option<&crate::witnessed::WitnessPolicy>,
    webhook: Option<&(&str, ureq::Agent)>,
) -> Result<u8, Failure> {
    let mut state = MonitorState::load(&a.state)
        .map_err(|e| Failure::input(e).with_prefix("Error: cannot read the monitor state"))?;
    let report = match poll(target, watch, &mut state, &NoNames) {
        Ok(r) => r,
        Err(e) => {
            outln!(
                "{}",
                json!({"status": "error", "log": a.log, "error": e.to_string()})
            );
            let failure = if is_verdict(&e) {
                Failure::failed(e).with_prefix("Log monitor FAILED")
            } else {
                Failure::input(e).with_prefix("Error: could not monitor the log")
            };
            if a.interval.is_some() {
                // Following: report and keep polling.
                return Ok(failure.code);
            }
            return Err(failure);
        }
    };
    if let (Some(w), Some(note)) = (witnesses, state.checkpoint.as_deref()) {
        let url = a.log.starts_with("http").then_some(a.log.as_str());
        if let Err(refusal) = w.check_checkpoint(note, url) {
            // Not saved: the next poll checks the log from the last witnessed state again.
            let line = json!({"alert": "witness-policy", "origin": report.origin,
                "tree_size": report.tree_size, "error": refusal.to_string()});
            outln!("{line}");
            if let Some((url, agent)) = webhook {
                post(agent, url, &line);
            }
            return Ok(EXIT_FAILED);
        }
    }
    state
        .save(&a.state)
        .map_err(|e| Failure::input(e).with_prefix("Error: cannot save the monitor state"))?;
    for alert in &report.alerts {
        let line = alert_line(&report, alert);
        outln!("{line}");
        if let Some((url, agent)) = webhook {
            post(agent, url, &line);
        }
    }
    outln!("{}", status_line(&report));
    Ok(if report.alerts.is_empty() && report.alerts_dropped == 0 {
        0
    } else {
        EXIT_FAILED
    })
}

fn alert_line(report: &PollReport, alert: &Alert) -> Value {
    let mut v = serde_json::to_value(alert).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("origin".into(), report.origin.clone().into());
    }
    v
}

fn status_line(r: &PollReport) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("status".into(), "ok".into());
        o.insert("alerts".into(), r.alerts.len().into());
    }
    v
}

/// POSTs one alert; a failure is reported on stderr without the URL (it may hold a token).
fn post(agent: &ureq::Agent, url: &str, line: &Value) {
    let why = match agent
        .post(url)
        .header("content-type", "application/json")
        .send(line.to_string())
    {
        Ok(r) if r.status().is_success() => return,
        Ok(r) => format!("HTTP status {}", r.status().as_u16()),
        Err(ureq::Error::Timeout(_)) => "timed out".to_owned(),
        Err(ureq::Error::Io(_) | ureq::Error::ConnectionFailed) => "connection failed".to_owned(),
        Err(_) => "request failed".to_owned(),
    };
    errln!("hallmark log monitor: webhook not delivered: {why}");
}
