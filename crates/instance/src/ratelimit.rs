//! Per-client token buckets for the log's write API: each client (an IPv4 address, or
//! an IPv6 /64, since one host holds a whole /64) may make `burst` requests at once and
//! `per_minute` on average. The table of clients is bounded: when it is full, clients
//! whose bucket has refilled are forgotten, and new clients beyond the bound share one
//! bucket, so an attacker with many addresses cannot grow memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::listen::client_key;

/// Most clients remembered at once.
const MAX_CLIENTS: usize = 65_536;

/// A per-client rate: `burst` requests at once, refilled at `per_minute`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Requests a client may make at once (at least 1).
    pub burst: u32,
    /// Requests per minute on average (at least 1).
    pub per_minute: u32,
}

/// Who a request comes from, for rate limiting.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
enum Client {
    /// The client's address as the listener counts it ([`client_key`]: IPv6 by /64).
    Address(IpAddr),
    /// No peer address known (a router served without connect info), or the table full.
    Shared,
}

impl Client {
    fn of(ip: Option<IpAddr>) -> Self {
        ip.map_or(Self::Shared, |ip| Self::Address(client_key(ip)))
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets by client.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    rate: Rate,
    buckets: Mutex<HashMap<Client, Bucket>>,
}

impl RateLimiter {
    pub(crate) fn new(rate: Rate) -> Self {
        Self {
            rate: Rate {
                burst: rate.burst.max(1),
                per_minute: rate.per_minute.max(1),
            },
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn rate(&self) -> Rate {
        self.rate
    }

    fn refill(&self, b: &mut Bucket, now: Instant) {
        let per_sec = f64::from(self.rate.per_minute) / 60.0;
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * per_sec).min(f64::from(self.rate.burst));
        b.at = now;
    }

    /// Takes one request from `ip`'s bucket; `Err(wait)` when it is empty, with how long
    /// until the next request is allowed.
    pub(crate) fn take(&self, ip: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let mut map = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let mut client = Client::of(ip);
        if !map.contains_key(&client) && map.len() >= MAX_CLIENTS {
            let full = f64::from(self.rate.burst);
            map.retain(|_, b| {
                self.refill(b, now);
                b.tokens < full
            });
            if map.len() >= MAX_CLIENTS {
                client = Client::Shared;
            }
        }
        let b = map.entry(client).or_insert(Bucket {
            tokens: f64::from(self.rate.burst),
            at: now,
        });
        self.refill(b, now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        let per_sec = f64::from(self.rate.per_minute) / 60.0;
        Err(Duration::from_secs_f64((1.0 - b.tokens) / per_sec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_burst_then_waits_for_the_refill() {
        let l = RateLimiter::new(Rate {
            burst: 3,
            per_minute: 6,
        });
        let t0 = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            l.take(Some(a), t0).unwrap();
        }
        let wait = l.take(Some(a), t0).unwrap_err();
        assert_eq!(wait.as_secs(), 10, "{wait:?}");
        // Another client has its own bucket; the same /64 shares one.
        l.take(Some("192.0.2.2".parse().unwrap()), t0).unwrap();
        let v6a: IpAddr = "2001:db8::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8::ffff".parse().unwrap();
        for _ in 0..3 {
            l.take(Some(v6a), t0).unwrap();
        }
        assert!(l.take(Some(v6b), t0).is_err());
        // Ten seconds later one more request is allowed.
        l.take(Some(a), t0 + Duration::from_secs(10)).unwrap();
        assert!(l.take(Some(a), t0 + Duration::from_secs(10)).is_err());
    }

    #[test]
    fn the_client_table_stays_bounded() {
        let l = RateLimiter::new(Rate {
            burst: 1,
            per_minute: 1,
        });
        let t0 = Instant::now();
        for i in 0..(MAX_CLIENTS as u32 + 10) {
            let _ = l.take(Some(IpAddr::V4(i.into())), t0);
        }
        let n = l.buckets.lock().unwrap().len();
        assert!(n <= MAX_CLIENTS + 1, "{n} buckets");
    }
}
