//! Login rate limits (issue 15 finding 3): per client address and per account name, with
//! exponential backoff. Each attempt is charged *before* its password is checked, so a
//! burst of concurrent guesses is limited like a sequence. After `free` attempts without a
//! success the key is refused for `base`, then `2 × base`, … up to `cap`; attempts refused
//! while blocked are not charged, so an attacker cannot stretch an account's block past
//! `cap` after their last guess, and the real user is never locked out for longer than
//! `cap`. A success clears the account and refunds the address its attempt; keys forget
//! their failures after `forget` without one. The table holds at most `max_entries` keys.
//! Account keys are the lower-cased name whether or not the account exists (a refusal
//! must not reveal which names exist); IPv6 addresses are limited per /64.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Login limit settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginLimits {
    /// Attempts per client address before backoff starts.
    pub ip_free: u32,
    /// Attempts per account name before backoff starts.
    pub account_free: u32,
    /// The first block.
    pub base: Duration,
    /// The longest block.
    pub cap: Duration,
    /// A key without a failure for this long starts over.
    pub forget: Duration,
    /// Most keys remembered.
    pub max_entries: usize,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            ip_free: 20,
            account_free: 5,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
            forget: Duration::from_secs(3600),
            max_entries: 100_000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Ip(IpAddr),
    Account(String),
}

#[derive(Debug)]
struct Entry {
    attempts: u32,
    blocked_until: Instant,
    last: Instant,
}

/// Which limit refused an attempt, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttled {
    /// Try again after this long.
    pub retry_after: Duration,
    /// `true`: the account name's limit; `false`: the client address's.
    pub account: bool,
}

/// The login limiter (one per hub process).
#[derive(Debug)]
pub struct LoginThrottle {
    limits: LoginLimits,
    table: Mutex<HashMap<Key, Entry>>,
}

/// The account key of a login name.
fn account_key(name: &str) -> Key {
    Key::Account(name.chars().take(64).collect::<String>().to_lowercase())
}

/// The address key: IPv6 by /64, as the listener counts connections.
fn ip_key(ip: IpAddr) -> Key {
    Key::Ip(hallmark_instance::listen::client_key(ip))
}

impl LoginThrottle {
    /// A limiter with these settings.
    #[must_use]
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            table: Mutex::new(HashMap::new()),
        }
    }

    fn keys(ip: Option<IpAddr>, account: &str) -> Vec<(Key, bool)> {
        let mut keys = vec![(account_key(account), true)];
        if let Some(ip) = ip {
            keys.push((ip_key(ip), false));
        }
        keys
    }

    /// Admits an attempt by `ip` on `account` and charges it to both, or says which limit
    /// refuses it.
    ///
    /// # Errors
    /// A limit is in its backoff.
    pub fn begin(&self, ip: Option<IpAddr>, account: &str) -> Result<(), Throttled> {
        self.begin_at(Instant::now(), ip, account)
    }

    fn begin_at(&self, now: Instant, ip: Option<IpAddr>, account: &str) -> Result<(), Throttled> {
        let keys = Self::keys(ip, account);
        let mut table = self
            .table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (key, is_account) in &keys {
            if let Some(e) = table.get(key)
                && e.blocked_until > now
            {
                return Err(Throttled {
                    retry_after: e.blocked_until - now,
                    account: *is_account,
                });
            }
        }
        for (key, is_account) in keys {
            let free = if is_account {
                self.limits.account_free
            } else {
                self.limits.ip_free
            };
            if !table.contains_key(&key) && !self.make_room(&mut table, now) {
                continue; // every remembered key is blocked: the other key still limits
            }
            let e = table.entry(key).or_insert(Entry {
                attempts: 0,
                blocked_until: now,
                last: now,
            });
            if now.duration_since(e.last) >= self.limits.forget {
                e.attempts = 0;
            }
            e.attempts = e.attempts.saturating_add(1);
            e.last = now;
            if e.attempts > free {
                let doublings = (e.attempts - free - 1).min(30);
                let block = self
                    .limits
                    .base
                    .saturating_mul(1 << doublings)
                    .min(self.limits.cap);
                e.blocked_until = now + block;
            }
        }
        Ok(())
    }

    /// Keeps the table under `max_entries`: forgets stale keys, then keys not blocked now.
    /// `false`: every key is blocked, nothing was made room for.
    fn make_room(&self, table: &mut HashMap<Key, Entry>, now: Instant) -> bool {
        if table.len() < self.limits.max_entries {
            return true;
        }
        let forget = self.limits.forget;
        table.retain(|_, e| now.duration_since(e.last) < forget);
        if table.len() >= self.limits.max_entries {
            table.retain(|_, e| e.blocked_until > now);
        }
        table.len() < self.limits.max_entries
    }

    /// A successful login: the account starts over, the address gets its attempt back.
    pub fn succeeded(&self, ip: Option<IpAddr>, account: &str) {
        let mut table = self
            .table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        table.remove(&account_key(account));
        self.refund_locked(&mut table, ip, None);
    }

    /// An attempt that checked no password (the hub was busy): both keys get it back.
    pub fn refund(&self, ip: Option<IpAddr>, account: &str) {
        let mut table = self
            .table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.refund_locked(&mut table, ip, Some(account));
    }

    fn refund_locked(
        &self,
        table: &mut HashMap<Key, Entry>,
        ip: Option<IpAddr>,
        account: Option<&str>,
    ) {
        let keys = ip.map(ip_key).into_iter().chain(account.map(account_key));
        for key in keys {
            if let Some(e) = table.get_mut(&key) {
                e.attempts = e.attempts.saturating_sub(1);
            }
        }
    }

    /// Keys remembered now (tests, monitoring).
    #[must_use]
    pub fn len(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Whether no key is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> LoginLimits {
        LoginLimits {
            ip_free: 4,
            account_free: 2,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(8),
            forget: Duration::from_secs(3600),
            max_entries: 3,
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_success_clears() {
        let t = LoginThrottle::new(limits());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        // two free attempts, the third is admitted and starts a 1 s block
        for _ in 0..3 {
            t.begin_at(t0, Some(ip), "Alice").unwrap();
        }
        let r = t.begin_at(t0, Some(ip), "alice").unwrap_err();
        assert!(r.account);
        assert_eq!(r.retry_after, Duration::from_secs(1));
        // blocked attempts are not charged; the next ones double the block up to the cap
        let mut now = t0;
        let mut blocks = vec![];
        for _ in 0..6 {
            now += Duration::from_secs(60);
            t.begin_at(now, None, "alice").unwrap();
            blocks.push(
                t.begin_at(now, None, "alice")
                    .unwrap_err()
                    .retry_after
                    .as_secs(),
            );
        }
        assert_eq!(blocks, [2, 4, 8, 8, 8, 8]);
        t.succeeded(Some(ip), "alice");
        t.begin_at(now, Some(ip), "alice").unwrap();
    }

    #[test]
    fn the_address_limit_spans_names_and_ipv6_counts_per_64() {
        let t = LoginThrottle::new(LoginLimits {
            max_entries: 100,
            ..limits()
        });
        let now = Instant::now();
        for i in 0..5 {
            let ip: IpAddr = format!("2001:db8::{i}").parse().unwrap();
            t.begin_at(now, Some(ip), &format!("user{i}")).unwrap();
        }
        let other: IpAddr = "2001:db8::ffff".parse().unwrap();
        let r = t.begin_at(now, Some(other), "user9").unwrap_err();
        assert!(!r.account);
        let elsewhere: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        t.begin_at(now, Some(elsewhere), "user9").unwrap();
    }

    #[test]
    fn the_table_is_bounded() {
        let t = LoginThrottle::new(limits());
        let now = Instant::now();
        for i in 0..50 {
            let _ = t.begin_at(now, None, &format!("name{i}"));
        }
        assert!(t.len() <= 3, "{}", t.len());
    }
}
