//! Counters for `GET /metrics`, in Prometheus's text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
pub struct Metrics {
    /// By (route, status).
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    /// By route: counts per bucket (the last is +Inf), sum of seconds.
    latency: Mutex<BTreeMap<String, ([u64; BUCKETS.len() + 1], f64)>>,
    pub in_flight: AtomicI64,
    pub shed: AtomicU64,
    pub rate_limited: AtomicU64,
    pub unauthorized: AtomicU64,
}

impl Metrics {
    pub fn record(&self, route: &str, status: u16, took: Duration) {
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        *requests.entry((route.to_string(), status)).or_default() += 1;
        drop(requests);
        let secs = took.as_secs_f64();
        let mut latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let (counts, sum) = latency.entry(route.to_string()).or_default();
        let at = BUCKETS
            .iter()
            .position(|&b| secs <= b)
            .unwrap_or(BUCKETS.len());
        counts[at] += 1;
        *sum += secs;
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP miracle_requests_total Requests answered, by route and status."
        );
        let _ = writeln!(out, "# TYPE miracle_requests_total counter");
        for ((route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "miracle_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP miracle_request_duration_seconds Time to answer, by route."
        );
        let _ = writeln!(out, "# TYPE miracle_request_duration_seconds histogram");
        for (route, (counts, sum)) in self
            .latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let mut cumulative = 0;
            for (i, n) in counts.iter().enumerate() {
                cumulative += n;
                let le = BUCKETS.get(i).map_or("+Inf".to_string(), |b| b.to_string());
                let _ = writeln!(
                    out,
                    "miracle_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "miracle_request_duration_seconds_sum{{route=\"{route}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "miracle_request_duration_seconds_count{{route=\"{route}\"}} {cumulative}"
            );
        }
        for (name, help, value) in [
            (
                "miracle_in_flight_requests",
                "Requests in progress.",
                self.in_flight.load(Ordering::Relaxed) as f64,
            ),
            (
                "miracle_shed_total",
                "Requests refused because the service was at capacity (503).",
                self.shed.load(Ordering::Relaxed) as f64,
            ),
            (
                "miracle_rate_limited_total",
                "Requests refused over a key's rate (429).",
                self.rate_limited.load(Ordering::Relaxed) as f64,
            ),
            (
                "miracle_unauthorized_total",
                "Requests without a valid key (401).",
                self.unauthorized.load(Ordering::Relaxed) as f64,
            ),
            (
                "process_resident_memory_bytes",
                "Resident memory of the service.",
                resident_bytes() as f64,
            ),
        ] {
            let kind = if name.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        out
    }
}

/// Resident memory from /proc (0 where there is none).
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}
