//! REST calls as the SDKs make them (JSON POST to `{webhook}{method}`), and latency statistics.

use crate::BoxError;
use serde_json::Value;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    webhook_url: String,
}

impl Client {
    pub fn new(webhook_url: &str) -> Result<Client, BoxError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(600))
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Client {
            http,
            webhook_url: webhook_url.to_string(),
        })
    }

    /// Calls `method` with `params`; returns the time until the whole answer was received and
    /// the parsed answer. A Bitrix24 error answer (or an HTTP error status) is an `Err`.
    pub async fn call(&self, method: &str, params: &Value) -> Result<(Duration, Value), BoxError> {
        let body = serde_json::to_vec(params)?;
        let started = Instant::now();
        let resp = self
            .http
            .post(format!("{}{method}", self.webhook_url))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        let elapsed = started.elapsed();
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            format!(
                "{method}: HTTP {status}, answer is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            )
        })?;
        if !status.is_success() || value.get("error").is_some() {
            return Err(format!("{method}: HTTP {status}: {value}").into());
        }
        Ok((elapsed, value))
    }
}

/// Latencies of one case.
#[derive(Debug, Clone)]
pub struct Stats {
    pub samples: Vec<Duration>,
}

impl Stats {
    pub fn new(mut samples: Vec<Duration>) -> Stats {
        samples.sort();
        Stats { samples }
    }

    /// Nearest-rank percentile (`q` in 0..=1).
    pub fn pct(&self, q: f64) -> Duration {
        if self.samples.is_empty() {
            return Duration::ZERO;
        }
        let rank = (q * self.samples.len() as f64).ceil() as usize;
        self.samples[rank.clamp(1, self.samples.len()) - 1]
    }

    pub fn max(&self) -> Duration {
        self.samples.last().copied().unwrap_or_default()
    }
}

/// Milliseconds with a precision that suits the size.
pub fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 1000.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}
