//! Token buckets per client address, kept in memory on each server.
//!
//! Only failures cost a token (a code that does not exist, a wrong password), so
//! a class that types its codes right is never slowed down, and a whole school
//! behind one address shares a bucket big enough for every mistyping child.
//! State is per server instance: with N instances an attacker gets at most N
//! times the budget, which the README's numbers allow for.
//!
//! Memory is bounded by [`Recent`]: two generations of at most
//! [`GENERATION`] keys each. A flood of new keys turns the generations over
//! in constant time, and a key in use is carried into the newer generation
//! when it is touched, so only keys idle for a whole generation are
//! forgotten.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Keys in one generation of a [`Recent`] map: at most twice this many are
/// held, about 100 bytes each.
pub const GENERATION: usize = 50_000;

/// A map that holds the keys touched most recently, at most two
/// generations of `capacity` keys. Turning a generation over drops the older
/// one outside the lock, so no request waits for a sweep.
#[derive(Debug)]
pub struct Recent<K, V> {
    capacity: usize,
    generations: Mutex<Generations<K, V>>,
}

#[derive(Debug)]
struct Generations<K, V> {
    current: HashMap<K, V>,
    previous: HashMap<K, V>,
}

impl<K: Hash + Eq + Clone, V> Recent<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            generations: Mutex::new(Generations {
                current: HashMap::new(),
                previous: HashMap::new(),
            }),
        }
    }

    /// Reads the value of `key`, if it is remembered.
    pub fn read<T>(&self, key: &K, read: impl FnOnce(&V) -> T) -> Option<T> {
        let generations = self.lock();
        generations
            .current
            .get(key)
            .or_else(|| generations.previous.get(key))
            .map(read)
    }

    /// Changes the value of `key` (made by `new` when not remembered),
    /// carrying it into the current generation.
    pub fn update<T>(
        &self,
        key: &K,
        new: impl FnOnce() -> V,
        change: impl FnOnce(&mut V) -> T,
    ) -> T {
        let mut dropped = None;
        let result = {
            let mut generations = self.lock();
            if !generations.current.contains_key(key) {
                let value = generations.previous.remove(key).unwrap_or_else(new);
                if generations.current.len() >= self.capacity {
                    let full = std::mem::take(&mut generations.current);
                    dropped = Some(std::mem::replace(&mut generations.previous, full));
                }
                generations.current.insert(key.clone(), value);
            }
            match generations.current.get_mut(key) {
                Some(value) => change(value),
                None => unreachable!("the key was inserted above"),
            }
        };
        drop(dropped);
        result
    }

    /// Forgets `key`.
    pub fn remove(&self, key: &K) {
        let removed = {
            let mut generations = self.lock();
            let current = generations.current.remove(key);
            let previous = generations.previous.remove(key);
            (current, previous)
        };
        drop(removed);
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        let generations = self.lock();
        generations.current.len() + generations.previous.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations<K, V>> {
        self.generations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

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
    buckets: Recent<K, Bucket>,
}

impl<K: Hash + Eq + Clone> Throttle<K> {
    pub fn new(limit: Limit) -> Self {
        Self::with_capacity(limit, GENERATION)
    }

    pub fn with_capacity(limit: Limit, generation: usize) -> Self {
        Self {
            limit,
            buckets: Recent::new(generation),
        }
    }

    /// Whether `key` may try now (has a token left). Trying costs nothing.
    pub fn allows(&self, key: &K) -> bool {
        self.tokens(key) >= 1.0
    }

    /// Whether `key` has failed recently: its bucket is not yet full again.
    pub fn has_failed(&self, key: &K) -> bool {
        self.tokens(key) < self.limit.burst
    }

    fn tokens(&self, key: &K) -> f64 {
        let now = Instant::now();
        self.buckets
            .read(key, |bucket| self.refilled(bucket, now))
            .unwrap_or(self.limit.burst)
    }

    /// Records a failure from `key`, taking a token. Logs an alarm (without the
    /// key itself, which may be an address) the first time a bucket runs dry.
    pub fn fail(&self, key: &K, what: &str) {
        let now = Instant::now();
        let alarm = self.buckets.update(
            key,
            || Bucket {
                tokens: self.limit.burst,
                updated: now,
                alarmed: false,
            },
            |bucket| {
                bucket.tokens = (self.refilled(bucket, now) - 1.0).max(0.0);
                bucket.updated = now;
                if bucket.tokens < 1.0 && !bucket.alarmed {
                    bucket.alarmed = true;
                    true
                } else {
                    if bucket.tokens >= self.limit.burst / 2.0 {
                        bucket.alarmed = false;
                    }
                    false
                }
            },
        );
        if alarm {
            tracing::warn!(
                what,
                "failure budget exhausted for one client: possible guessing"
            );
        }
    }

    fn refilled(&self, bucket: &Bucket, now: Instant) -> f64 {
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        (bucket.tokens + elapsed * self.limit.per_second).min(self.limit.burst)
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
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
        assert!(!throttle.has_failed(&key));
        for _ in 0..3 {
            assert!(throttle.allows(&key));
            throttle.fail(&key, "test");
            assert!(throttle.has_failed(&key));
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
        assert!(!throttle.has_failed(&key));
    }

    #[test]
    fn a_flood_of_new_keys_is_bounded_and_a_key_in_use_is_not_forgotten() {
        let throttle: Throttle<u32> = Throttle::with_capacity(
            Limit {
                burst: 2.0,
                per_second: 0.0,
            },
            1_000,
        );
        let guesser = u32::MAX;
        throttle.fail(&guesser, "test");
        throttle.fail(&guesser, "test");
        for key in 0..100_000 {
            throttle.fail(&key, "test");
            assert!(throttle.len() <= 2_000, "memory must stay bounded");
            if key % 500 == 0 {
                // The guesser keeps trying between the flood's keys.
                throttle.fail(&guesser, "test");
            }
        }
        assert!(
            !throttle.allows(&guesser),
            "a key failing through the flood keeps its empty bucket"
        );
        assert!(
            throttle.allows(&0),
            "keys idle for a whole generation are forgotten"
        );
    }
}
