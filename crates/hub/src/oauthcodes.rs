//! The OAuth authorization codes waiting to be exchanged ([`crate::oauth`]): single use,
//! [`CODE_TTL`], at most [`MAX_PENDING`] hub-wide and [`MAX_PER_USER`] per user, stored
//! under SHA-256 of the code (the code itself is not kept).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::auth::random_b64;

/// How long an authorization code can be exchanged.
pub const CODE_TTL: Duration = Duration::from_secs(60);
/// Most codes waiting to be exchanged, hub-wide.
pub const MAX_PENDING: usize = 1024;
/// Most codes waiting per user.
pub const MAX_PER_USER: usize = 8;
/// A code waiting to be exchanged.
#[derive(Debug)]
pub(crate) struct Grant {
    pub(crate) user: String,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) challenge: String,
    pub(crate) expires: Instant,
}

/// The pending authorization codes, keyed by SHA-256 of the code.
#[derive(Debug, Default)]
pub struct Grants {
    pending: Mutex<HashMap<[u8; 32], Grant>>,
}

fn code_key(code: &str) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, code.as_bytes());
    let mut k = [0u8; 32];
    k.copy_from_slice(d.as_ref());
    k
}

impl Grants {
    /// Stores a grant; the code, or why not.
    pub(crate) fn issue(&self, g: Grant) -> Result<String, &'static str> {
        let code = random_b64(32).map_err(|_| "no randomness")?;
        let mut p = self.pending.lock().map_err(|_| "grant store poisoned")?;
        let now = Instant::now();
        p.retain(|_, g| g.expires > now);
        if p.len() >= MAX_PENDING {
            return Err("too many logins in progress; try again in a minute");
        }
        if p.values().filter(|x| x.user == g.user).count() >= MAX_PER_USER {
            return Err("too many logins in progress for this user; try again in a minute");
        }
        p.insert(code_key(&code), g);
        Ok(code)
    }

    /// Takes a code out (single use), if it exists and has not expired.
    pub(crate) fn take(&self, code: &str) -> Option<Grant> {
        let g = self.pending.lock().ok()?.remove(&code_key(code))?;
        (g.expires > Instant::now()).then_some(g)
    }

    /// Codes waiting (for tests and monitoring).
    #[must_use]
    pub fn len(&self) -> usize {
        self.pending.lock().map_or(0, |p| p.len())
    }

    /// Whether no code is waiting.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT_ID: &str = "sigstore";
    const OOB_REDIRECT: &str = "urn:ietf:wg:oauth:2.0:oob";

    #[test]
    fn codes_are_single_use_bounded_and_expire() {
        let grants = Grants::default();
        let grant = |user: &str, ttl: Duration| Grant {
            user: user.into(),
            client_id: CLIENT_ID.into(),
            redirect_uri: OOB_REDIRECT.into(),
            challenge: "c".into(),
            expires: Instant::now() + ttl,
        };
        let code = grants.issue(grant("alice", CODE_TTL)).unwrap();
        assert!(grants.take(&code).is_some());
        assert!(grants.take(&code).is_none(), "a code is single use");
        let stale = grants.issue(grant("alice", Duration::ZERO)).unwrap();
        assert!(grants.take(&stale).is_none(), "an expired code is refused");
        for _ in 0..MAX_PER_USER {
            grants.issue(grant("bob", CODE_TTL)).unwrap();
        }
        assert!(
            grants.issue(grant("bob", CODE_TTL)).is_err(),
            "per-user bound"
        );
        assert_eq!(grants.len(), MAX_PER_USER);
        for i in 0..(MAX_PENDING - MAX_PER_USER) {
            grants.issue(grant(&format!("u{i}"), CODE_TTL)).unwrap();
        }
        assert!(
            grants.issue(grant("carol", CODE_TTL)).is_err(),
            "hub-wide bound"
        );
        assert_eq!(grants.len(), MAX_PENDING);
    }
}
