//! API keys (`Authorization: Bearer …`, as OpenAI clients send them), compared in constant
//! time, and a token bucket per key.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use super::config::ApiKey;

pub struct Keys {
    keys: Vec<ApiKey>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Who a request is from, for logs, metrics and rate limits.
#[derive(Debug, Clone)]
pub struct Caller(pub String);

pub enum Refusal {
    /// No key, or not one of ours.
    Unauthorized,
    /// Over the key's rate: try again after this long.
    RateLimited(Duration),
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Keys {
    pub fn new(keys: Vec<ApiKey>) -> Self {
        Keys {
            keys,
            buckets: Mutex::default(),
        }
    }

    /// Whether keys are asked for at all (a config without keys serves anyone).
    pub fn required(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The caller holding `authorization` (the header's value), within its rate.
    pub fn admit(&self, authorization: Option<&str>) -> Result<Caller, Refusal> {
        if !self.required() {
            return Ok(Caller("anyone".into()));
        }
        let presented = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(Refusal::Unauthorized)?;
        // Every key is compared, each in constant time, so timing tells nothing of which
        // key (or how much of one) matched.
        let mut found = None;
        for key in &self.keys {
            if bool::from(key.secret.as_bytes().ct_eq(presented.as_bytes())) {
                found = Some(key);
            }
        }
        let key = found.ok_or(Refusal::Unauthorized)?;
        self.take(key)?;
        Ok(Caller(key.name.clone()))
    }

    fn take(&self, key: &ApiKey) -> Result<(), Refusal> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let bucket = buckets.entry(key.name.clone()).or_insert(Bucket {
            tokens: f64::from(key.burst),
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * key.per_second;
        bucket.tokens = (bucket.tokens + refill).min(f64::from(key.burst));
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / key.per_second;
            Err(Refusal::RateLimited(Duration::from_secs_f64(wait)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(per_second: f64, burst: u32) -> Keys {
        Keys::new(vec![ApiKey {
            name: "desk".into(),
            secret: "0123456789abcdef".into(),
            per_second,
            burst,
        }])
    }

    #[test]
    fn admits_only_its_keys() {
        let keys = keys(100.0, 10);
        assert!(keys.admit(Some("Bearer 0123456789abcdef")).is_ok());
        for wrong in [
            None,
            Some("Bearer 0123456789abcdeX"),
            Some("0123456789abcdef"),
            Some("Bearer "),
            Some("Bearer 0123456789abcdef0"),
        ] {
            assert!(
                matches!(keys.admit(wrong), Err(Refusal::Unauthorized)),
                "{wrong:?}"
            );
        }
    }

    #[test]
    fn a_burst_then_the_rate() {
        let keys = keys(1.0, 3);
        for _ in 0..3 {
            assert!(keys.admit(Some("Bearer 0123456789abcdef")).is_ok());
        }
        match keys.admit(Some("Bearer 0123456789abcdef")) {
            Err(Refusal::RateLimited(wait)) => assert!(wait <= Duration::from_secs(1)),
            _ => panic!("the fourth request in a burst of three is refused"),
        }
    }
}
