//! SigningConfig v0.2 (`application/vnd.dev.sigstore.signingconfig.v0.2+json`,
//! sigstore/protobuf-specs `sigstore_trustroot.proto`): which Fulcio, OIDC issuer, Rekor
//! logs and timestamp authorities a signer uses. Pure selection, no network.
//!
//! Rules (the proto's comments, as sigstore-python 4.5 and sigstore-go apply them):
//! * a service is a candidate when `validFor` holds now (start ≤ now ≤ end, both
//!   inclusive, no end = open) and its `majorApiVersion` is one this signer speaks
//!   ([`Supported`]);
//! * CA and OIDC: one service, the highest version, then the newest `validFor.start`;
//! * Rekor logs and TSAs: per `operator`, the highest version (then newest start); then
//!   the configuration's selector over those, in list order: `ALL` every one, `ANY` the
//!   first, `EXACT` the first `count` (an error when fewer exist). No configuration = `ANY`.
//!
//! Accepts a bare SigningConfig or a ClientTrustConfig holding one (camelCase or
//! snake_case keys).

use std::time::SystemTime;

use serde_json::Value;
use thiserror::Error;

/// The signing config media type.
pub const SIGNING_CONFIG_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";

/// One selected service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// Its URL, without a trailing slash (a base URL, or for a TSA the full endpoint).
    pub url: String,
    /// Its major API version.
    pub major_api_version: u32,
    /// Its operator (empty when the config names none).
    pub operator: String,
}

/// The major API versions a signer speaks, per kind of service.
#[derive(Clone, Copy, Debug)]
pub struct Supported {
    /// Fulcio.
    pub ca: &'static [u32],
    /// OIDC issuers.
    pub oidc: &'static [u32],
    /// Rekor.
    pub tlog: &'static [u32],
    /// RFC 3161 timestamp authorities.
    pub tsa: &'static [u32],
}

impl Supported {
    /// Hallmark's signer: Fulcio v1 (REST `/api/v2/signingCert`), OIDC v1, Rekor v1 and v2,
    /// TSA v1.
    pub const HALLMARK: Self = Self {
        ca: &[1],
        oidc: &[1],
        tlog: &[1, 2],
        tsa: &[1],
    };
}

/// The services chosen for one signing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectedServices {
    /// The certificate authority.
    pub ca: Service,
    /// The OIDC issuer, when the config names one.
    pub oidc: Option<Service>,
    /// The transparency logs, at least one (signers log to the first).
    pub tlogs: Vec<Service>,
    /// The timestamp authorities (possibly none).
    pub tsas: Vec<Service>,
}

/// Why no services could be selected.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningConfigError {
    /// Not a SigningConfig (or a ClientTrustConfig holding one).
    #[error("signingConfig: {0}")]
    Malformed(String),
    /// A list has no service valid now in a supported version.
    #[error(
        "signingConfig.{list}: no service valid now with a supported majorApiVersion ({supported:?})"
    )]
    NoService {
        /// The list, e.g. `rekorTlogUrls`.
        list: &'static str,
        /// The versions this signer speaks.
        supported: &'static [u32],
    },
    /// `EXACT` asks for more services than there are.
    #[error(
        "signingConfig.{config}: EXACT {count} asks for more services than the {available} valid ones"
    )]
    NotEnough {
        /// `rekorTlogConfig` or `tsaConfig`.
        config: &'static str,
        /// The count asked.
        count: u64,
        /// The services available.
        available: usize,
    },
}

fn field<'a>(v: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    v.get(camel).or_else(|| v.get(snake))
}

fn seconds(rfc3339: &str) -> Option<i64> {
    rfc3339
        .parse::<jiff::Timestamp>()
        .ok()
        .map(jiff::Timestamp::as_second)
}

/// A candidate: the service, its start (seconds) and its position in the list.
struct Candidate {
    service: Service,
    start: i64,
}

fn candidates(
    sc: &Value,
    camel: &str,
    snake: &str,
    supported: &[u32],
    now: i64,
) -> Result<Vec<Candidate>, SigningConfigError> {
    let Some(list) = field(sc, camel, snake) else {
        return Ok(Vec::new());
    };
    let list = list
        .as_array()
        .ok_or_else(|| SigningConfigError::Malformed(format!("{camel} is not a list")))?;
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let bad = |what: &str| SigningConfigError::Malformed(format!("{camel}[{i}].{what}"));
        let url = s
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("url is missing"))?;
        let major = field(s, "majorApiVersion", "major_api_version")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| bad("majorApiVersion is missing"))?;
        let valid = field(s, "validFor", "valid_for");
        let start = match valid.and_then(|v| v.get("start")) {
            Some(t) => t
                .as_str()
                .and_then(seconds)
                .ok_or_else(|| bad("validFor.start is not an RFC 3339 time"))?,
            None => i64::MIN,
        };
        let end = match valid.and_then(|v| v.get("end")) {
            Some(t) => t
                .as_str()
                .and_then(seconds)
                .ok_or_else(|| bad("validFor.end is not an RFC 3339 time"))?,
            None => i64::MAX,
        };
        if start <= now && now <= end && supported.contains(&major) {
            out.push(Candidate {
                service: Service {
                    url: url.trim_end_matches('/').to_owned(),
                    major_api_version: major,
                    operator: s
                        .get("operator")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                },
                start,
            });
        }
    }
    Ok(out)
}

/// Whether `a` beats `b`: higher version, then newer start.
fn better(a: &Candidate, b: &Candidate) -> bool {
    (a.service.major_api_version, a.start) > (b.service.major_api_version, b.start)
}

fn best_one(c: Vec<Candidate>) -> Option<Service> {
    let mut best: Option<Candidate> = None;
    for x in c {
        if best.as_ref().is_none_or(|b| better(&x, b)) {
            best = Some(x);
        }
    }
    best.map(|b| b.service)
}

/// One per operator (the best), in the order operators first appear, then the selector.
fn per_operator(
    c: Vec<Candidate>,
    sc: &Value,
    config: &'static str,
    snake: &str,
) -> Result<Vec<Service>, SigningConfigError> {
    let mut chosen: Vec<Candidate> = Vec::new();
    for x in c {
        match chosen
            .iter_mut()
            .find(|b| b.service.operator == x.service.operator)
        {
            Some(b) if better(&x, b) => *b = x,
            Some(_) => {}
            None => chosen.push(x),
        }
    }
    let services: Vec<Service> = chosen.into_iter().map(|c| c.service).collect();
    let cfg = field(sc, config, snake);
    let selector = cfg
        .and_then(|c| c.get("selector"))
        .and_then(Value::as_str)
        .unwrap_or("ANY");
    match selector {
        "ALL" => Ok(services),
        "ANY" | "SERVICE_SELECTOR_UNDEFINED" => Ok(services.into_iter().take(1).collect()),
        "EXACT" => {
            let count = cfg
                .and_then(|c| c.get("count"))
                .and_then(Value::as_u64)
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    SigningConfigError::Malformed(format!(
                        "{config}.count must be a positive number with EXACT"
                    ))
                })?;
            if (services.len() as u64) < count {
                return Err(SigningConfigError::NotEnough {
                    config,
                    count,
                    available: services.len(),
                });
            }
            Ok(services.into_iter().take(count as usize).collect())
        }
        other => Err(SigningConfigError::Malformed(format!(
            "{config}.selector {other:?} is not ALL, ANY or EXACT"
        ))),
    }
}

/// Selects the services of `config` (a SigningConfig, or a ClientTrustConfig holding one)
/// valid at `now` that `supported` versions allow.
///
/// # Errors
/// [`SigningConfigError`] naming the list or field.
pub fn select_services(
    config: &Value,
    now: SystemTime,
    supported: Supported,
) -> Result<SelectedServices, SigningConfigError> {
    let sc = field(config, "signingConfig", "signing_config").unwrap_or(config);
    let media = field(sc, "mediaType", "media_type").and_then(Value::as_str);
    if media != Some(SIGNING_CONFIG_MEDIA_TYPE) {
        return Err(SigningConfigError::Malformed(format!(
            "mediaType is {media:?}, expected {SIGNING_CONFIG_MEDIA_TYPE:?}"
        )));
    }
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let ca = best_one(candidates(sc, "caUrls", "ca_urls", supported.ca, now)?).ok_or(
        SigningConfigError::NoService {
            list: "caUrls",
            supported: supported.ca,
        },
    )?;
    let oidc = best_one(candidates(
        sc,
        "oidcUrls",
        "oidc_urls",
        supported.oidc,
        now,
    )?);
    let tlogs = per_operator(
        candidates(sc, "rekorTlogUrls", "rekor_tlog_urls", supported.tlog, now)?,
        sc,
        "rekorTlogConfig",
        "rekor_tlog_config",
    )?;
    if tlogs.is_empty() {
        return Err(SigningConfigError::NoService {
            list: "rekorTlogUrls",
            supported: supported.tlog,
        });
    }
    let tsas = per_operator(
        candidates(sc, "tsaUrls", "tsa_urls", supported.tsa, now)?,
        sc,
        "tsaConfig",
        "tsa_config",
    )?;
    Ok(SelectedServices {
        ca,
        oidc,
        tlogs,
        tsas,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn at(rfc3339: &str) -> SystemTime {
        let s = seconds(rfc3339).unwrap();
        SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(s).unwrap())
    }

    fn staging() -> Value {
        serde_json::from_slice(&hallmark_testkit::read(hallmark_testkit::testdata(
            "sigstore-signing-config/staging.signing_config.v0.2.json",
        )))
        .unwrap()
    }

    #[test]
    fn staging_picks_the_current_rekor_v2_log_and_the_tsa() {
        let s =
            select_services(&staging(), at("2026-01-01T00:00:00Z"), Supported::HALLMARK).unwrap();
        assert_eq!(s.ca.url, "https://fulcio.sigstage.dev");
        assert_eq!(s.oidc.unwrap().url, "https://oauth2.sigstage.dev/auth");
        assert_eq!(s.tlogs.len(), 1);
        assert_eq!(s.tlogs[0].url, "https://log2025-alpha3.rekor.sigstage.dev");
        assert_eq!(s.tlogs[0].major_api_version, 2);
        assert_eq!(
            s.tsas[0].url,
            "https://timestamp.sigstage.dev/api/v1/timestamp"
        );
        // Within alpha2's window (end inclusive), alpha2 is the newest valid v2 log.
        let s =
            select_services(&staging(), at("2025-09-01T00:00:00Z"), Supported::HALLMARK).unwrap();
        assert_eq!(s.tlogs[0].url, "https://log2025-alpha2.rekor.sigstage.dev");
        // A v1-only signer takes Rekor v1.
        let v1 = Supported {
            tlog: &[1],
            ..Supported::HALLMARK
        };
        let s = select_services(&staging(), at("2026-01-01T00:00:00Z"), v1).unwrap();
        assert_eq!(s.tlogs[0].url, "https://rekor.sigstage.dev");
        // Before every log's start: nothing to log to.
        let e = select_services(&staging(), at("2020-01-01T00:00:00Z"), Supported::HALLMARK)
            .unwrap_err();
        assert!(
            matches!(e, SigningConfigError::NoService { list: "caUrls", .. }),
            "{e}"
        );
    }

    fn two_operators(selector: Value) -> Value {
        let svc = |u: &str, v: u32, op: &str| json!({"url": u, "majorApiVersion": v, "validFor": {"start": "2024-01-01T00:00:00Z"}, "operator": op});
        json!({"signingConfig": {
            "mediaType": SIGNING_CONFIG_MEDIA_TYPE,
            "caUrls": [svc("https://ca", 1, "a")],
            "rekorTlogUrls": [svc("https://a1", 1, "a"), svc("https://b2", 2, "b"), svc("https://a2/", 2, "a"), svc("https://c9", 9, "c")],
            "rekorTlogConfig": selector,
            "tsaUrls": [svc("https://tsa-a", 1, "a"), svc("https://tsa-b", 1, "b")],
            "tsaConfig": {"selector": "ALL"},
        }})
    }

    #[test]
    fn selectors_all_any_exact_one_per_operator() {
        let now = at("2026-01-01T00:00:00Z");
        let urls = |s: &SelectedServices| s.tlogs.iter().map(|t| t.url.clone()).collect::<Vec<_>>();
        let all = select_services(
            &two_operators(json!({"selector": "ALL"})),
            now,
            Supported::HALLMARK,
        )
        .unwrap();
        // Operator a: v2 beats v1; operator c only has an unsupported version.
        assert_eq!(urls(&all), ["https://a2", "https://b2"]);
        assert_eq!(all.tsas.len(), 2);
        assert!(all.oidc.is_none());
        let any = select_services(
            &two_operators(json!({"selector": "ANY"})),
            now,
            Supported::HALLMARK,
        )
        .unwrap();
        assert_eq!(urls(&any), ["https://a2"]);
        let exact = select_services(
            &two_operators(json!({"selector": "EXACT", "count": 2})),
            now,
            Supported::HALLMARK,
        )
        .unwrap();
        assert_eq!(exact.tlogs.len(), 2);
        let e = select_services(
            &two_operators(json!({"selector": "EXACT", "count": 3})),
            now,
            Supported::HALLMARK,
        )
        .unwrap_err();
        assert_eq!(
            e,
            SigningConfigError::NotEnough {
                config: "rekorTlogConfig",
                count: 3,
                available: 2
            }
        );
        let e = select_services(
            &two_operators(json!({"selector": "EXACT"})),
            now,
            Supported::HALLMARK,
        )
        .unwrap_err();
        assert!(e.to_string().contains("rekorTlogConfig.count"), "{e}");
        let e = select_services(&json!({"mediaType": "x"}), now, Supported::HALLMARK).unwrap_err();
        assert!(e.to_string().contains("mediaType"), "{e}");
    }
}
