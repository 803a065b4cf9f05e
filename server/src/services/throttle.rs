//! Token buckets per client address, kept in memory on each server.
//!
//! Only failures cost a token (a code that does not exist, a wrong password), so
//! a class that types its codes right is never slowed down, and a whole school
//! behind one address shares a bucket big enough for every mistyping child.
//! State is per server instance: with N instances an attacker gets at most N
//! times the budget, which the README's numbers allow for.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// A bucket's shape: how many failures may come at once, and how fast they refill.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub burst: f64,
    pub per_second: f64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
    alarmed: bool,
}

/// Failure budgets per key (an address, or an account).
#[derive(Debug)]
pub struct Throttle<K = IpAddr> {
    limit: Limit,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: std::hash::Hash + Eq + Clone + std::fmt::Display> Throttle<K> {
    pub fn new(limit: Limit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` may try now (has a token left). Trying costs nothing.
    pub fn allows(&self, key: &K) -> bool {
        let mut buckets = self.lock();
        let now = Instant::now();
        match buckets.get_mut(key) {
            None => true,
            Some(bucket) => {
                self.refill(bucket, now);
                bucket.tokens >= 1.0
            }
        }
    }

    /// Records a failure from `key`, taking a token. Logs an alarm (without the
    /// key itself, which may be an address) the first time a bucket runs dry.
    pub fn fail(&self, key: &K, what: &str) {
        let mut buckets = self.lock();
        let now = Instant::now();
        if buckets.len() > 100_000 {
            // Forget full buckets so memory stays bounded under a flood.
            let limit = self.limit;
            buckets.retain(|_, b| {
                let refilled =
                    b.tokens + now.duration_since(b.updated).as_secs_f64() * limit.per_second;
                refilled < limit.burst
            });
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: self.limit.burst,
            updated: now,
            alarmed: false,
        });
        self.refill(bucket, now);
        bucket.tokens = (bucket.tokens - 1.0).max(0.0);
        if bucket.tokens < 1.0 && !bucket.alarmed {
            bucket.alarmed = true;
            tracing::warn!(
                what,
                "failure budget exhausted for one client: possible guessing"
            );
        } else if bucket.tokens >= self.limit.burst / 2.0 {
            bucket.alarmed = false;
        }
    }

    fn refill(&self, bucket: &mut Bucket, now: Instant) {
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.limit.per_second).min(self.limit.burst);
        bucket.updated = now;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Bucket>> {
        self.buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_drain_the_bucket_and_successes_cost_nothing() {
        let throttle: Throttle<String> = Throttle::new(Limit {
            burst: 3.0,
            per_second: 0.0,
        });
        let key = "a".to_owned();
        for _ in 0..3 {
            assert!(throttle.allows(&key));
            throttle.fail(&key, "test");
        }
        assert!(!throttle.allows(&key));
        assert!(
            throttle.allows(&"b".to_owned()),
            "other keys are unaffected"
        );
    }

    #[test]
    fn tokens_come_back_over_time() {
        let throttle: Throttle<String> = Throttle::new(Limit {
            burst: 1.0,
            per_second: 1000.0,
        });
        let key = "a".to_owned();
        throttle.fail(&key, "test");
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(throttle.allows(&key));
    }
}
