//! Bitrix24's two limits (spec/limits-and-batch.md §1–2): the leaky bucket per portal and client IP
//! (503 `QUERY_LIMIT_EXCEEDED`) and per-method operating time in ten one-minute baskets (429
//! `OPERATION_TIME_LIMIT`, and the `operating` figures of every `time` object).
//!
//! The arithmetic is plain functions of "now" ([`LeakyBucket`], [`OperatingWindow`]); the state
//! lives behind [`LimiterState`] (in memory today; a Redis-backed implementation — a Lua script per
//! operation over the same string keys — is what several instances serving one portal would use),
//! and time comes from a [`Clock`] so tests can move it.

use crate::auth::Caller;
use bx_wire::ApiError;
use futures::future::{ready, BoxFuture};
use futures::FutureExt;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Debug;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

/// Length of the operating window: ten one-minute baskets.
pub const WINDOW_SECONDS: f64 = 600.0;
const BASKET_SECONDS: f64 = 60.0;
/// The outer `batch` call is never billed nor blocked; its commands are (decision (g)).
const UNBILLED: [&str; 1] = ["batch"];

// ---------------------------------------------------------------------------------- clock

/// Unix time in seconds. The server reads time through this so tests can control it.
pub trait Clock: Send + Sync + Debug {
    fn now(&self) -> f64;

    fn now_secs(&self) -> i64 {
        self.now().floor() as i64
    }
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> f64 {
        bx_wire::envelope::unix_now()
    }
}

/// A clock that only moves when told to (microsecond resolution).
#[derive(Debug)]
pub struct ManualClock {
    micros: AtomicI64,
}

impl ManualClock {
    pub fn new(start: f64) -> Arc<Self> {
        Arc::new(ManualClock {
            micros: AtomicI64::new((start * 1e6).round() as i64),
        })
    }

    /// A manual clock starting at the current time.
    pub fn starting_now() -> Arc<Self> {
        Self::new(bx_wire::envelope::unix_now())
    }

    pub fn set(&self, t: f64) {
        self.micros
            .store((t * 1e6).round() as i64, Ordering::SeqCst);
    }

    pub fn advance(&self, seconds: f64) {
        self.micros
            .fetch_add((seconds * 1e6).round() as i64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> f64 {
        self.micros.load(Ordering::SeqCst) as f64 / 1e6
    }
}

// ---------------------------------------------------------------------------------- settings

/// The leaky bucket: `burst` requests may be pending (X), draining `drain_per_second` (Y).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub burst: f64,
    pub drain_per_second: f64,
}

impl RateLimit {
    /// Every plan but Enterprise: 50, draining 2 per second.
    pub const STANDARD: RateLimit = RateLimit {
        burst: 50.0,
        drain_per_second: 2.0,
    };
    /// Enterprise: 250, draining 5 per second.
    pub const ENTERPRISE: RateLimit = RateLimit {
        burst: 250.0,
        drain_per_second: 5.0,
    };

    /// `off`, `standard`, `enterprise` or `BURST/RATE` (e.g. `50/2`); `off` is `None`.
    pub fn parse(s: &str) -> Result<Option<RateLimit>, String> {
        let s = s.trim();
        match s.to_ascii_lowercase().as_str() {
            "off" | "none" | "0" => return Ok(None),
            "standard" => return Ok(Some(Self::STANDARD)),
            "enterprise" => return Ok(Some(Self::ENTERPRISE)),
            _ => {}
        }
        let bad = || format!("bad rate limit '{s}': use off, standard, enterprise or BURST/RATE");
        let (burst, rate) = s.split_once('/').ok_or_else(bad)?;
        let burst: f64 = burst.trim().parse().map_err(|_| bad())?;
        let rate: f64 = rate.trim().parse().map_err(|_| bad())?;
        if !(burst >= 1.0 && rate > 0.0 && burst.is_finite() && rate.is_finite()) {
            return Err(format!(
                "bad rate limit '{s}': BURST must be at least 1 and RATE above 0"
            ));
        }
        Ok(Some(RateLimit {
            burst,
            drain_per_second: rate,
        }))
    }
}

/// What one leaky bucket counts (spec/open-questions.md B4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RateKey {
    Portal,
    /// The docs' rule: applications on one server share the portal's limit.
    #[default]
    PortalIp,
    PortalCredential,
}

impl RateKey {
    pub fn parse(s: &str) -> Result<RateKey, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "portal" => Ok(RateKey::Portal),
            "portal+ip" => Ok(RateKey::PortalIp),
            "portal+credential" => Ok(RateKey::PortalCredential),
            _ => Err(format!(
                "bad rate-limit key '{s}': use portal, portal+ip or portal+credential"
            )),
        }
    }
}

/// A fixed cost added to every call's measured time (CI extension: makes throttling testable
/// without slow queries). `crm.lead.list=20,*=0.5`: 20 s for that method, 0.5 s for the others.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyntheticCost {
    pub default: f64,
    pub per_method: BTreeMap<String, f64>,
}

impl SyntheticCost {
    /// `SECONDS`, or a comma-separated list of `METHOD=SECONDS` and `*=SECONDS`.
    pub fn parse(s: &str) -> Result<SyntheticCost, String> {
        let mut cost = SyntheticCost::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (method, seconds) = match part.split_once('=') {
                Some((m, v)) => (m.trim(), v.trim()),
                None => ("*", part),
            };
            let seconds: f64 = seconds
                .parse()
                .ok()
                .filter(|v: &f64| *v >= 0.0 && v.is_finite())
                .ok_or_else(|| {
                    format!("bad operating cost '{part}': use SECONDS or METHOD=SECONDS")
                })?;
            if method == "*" {
                cost.default = seconds;
            } else {
                cost.per_method.insert(method.to_ascii_lowercase(), seconds);
            }
        }
        Ok(cost)
    }

    pub fn for_method(&self, method: &str) -> f64 {
        self.per_method.get(method).copied().unwrap_or(self.default)
    }
}

/// Operating-time settings (spec/limits-and-batch.md §2, "Our configuration").
#[derive(Debug, Clone, PartialEq)]
pub struct OperatingConfig {
    /// Count operating time at all; off: `operating` is 0 and `operating_reset_at` now + 600.
    pub accounting: bool,
    pub limit_seconds: f64,
    /// Answer 429 once a method's operating time is above the limit.
    pub block: bool,
    /// Calls that cost less are not billed (the cloud was measured at about 0.1 s).
    pub min_billable_seconds: f64,
    pub synthetic_cost: SyntheticCost,
}

impl Default for OperatingConfig {
    fn default() -> Self {
        OperatingConfig {
            accounting: true,
            limit_seconds: 480.0,
            block: false,
            min_billable_seconds: 0.0,
            synthetic_cost: SyntheticCost::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct LimitsConfig {
    /// `None`: no request-rate limit (the default).
    pub rate_limit: Option<RateLimit>,
    pub rate_key: RateKey,
    pub operating: OperatingConfig,
}

impl std::fmt::Display for LimitsConfig {
    /// One line for the start-up banner.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.rate_limit {
            Some(r) => {
                let key = match self.rate_key {
                    RateKey::Portal => "portal",
                    RateKey::PortalIp => "portal+ip",
                    RateKey::PortalCredential => "portal+credential",
                };
                write!(
                    f,
                    "rate {} burst, draining {}/s per {key}",
                    r.burst, r.drain_per_second
                )?
            }
            None => write!(f, "rate off")?,
        }
        let op = &self.operating;
        if !op.accounting {
            return write!(f, "; operating time not counted");
        }
        write!(
            f,
            "; operating {} s per 10 min per method ({})",
            op.limit_seconds,
            if op.block {
                "429 past it"
            } else {
                "reported only"
            }
        )
    }
}

// ---------------------------------------------------------------------------------- arithmetic

/// One leaky bucket: a counter that drains continuously (spec §1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeakyBucket {
    level: f64,
    updated: f64,
}

impl LeakyBucket {
    pub fn new(now: f64) -> Self {
        LeakyBucket {
            level: 0.0,
            updated: now,
        }
    }

    /// Drains by the time elapsed, then admits the request (counting it) unless one more would
    /// exceed the burst; a rejected request is not counted.
    pub fn admit(&mut self, now: f64, limit: RateLimit) -> bool {
        self.drain(now, limit);
        if self.level + 1.0 > limit.burst {
            return false;
        }
        self.level += 1.0;
        true
    }

    fn drain(&mut self, now: f64, limit: RateLimit) {
        let elapsed = (now - self.updated).max(0.0);
        self.level = (self.level - elapsed * limit.drain_per_second).max(0.0);
        self.updated = self.updated.max(now);
    }

    /// The counter after draining to `now`.
    pub fn level(&self, now: f64, limit: RateLimit) -> f64 {
        let mut b = *self;
        b.drain(now, limit);
        b.level
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Basket {
    /// Which minute (Unix seconds / 60) the basket collects.
    minute: i64,
    /// The first call recorded in it: the basket expires ten minutes later.
    first_call: f64,
    seconds: f64,
}

/// Operating time of one (credential, method): one-minute baskets, each living ten minutes from
/// its first call (spec §2; docs example: first call 10:05:20 → `operating_reset_at` 10:15:20).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperatingWindow {
    baskets: VecDeque<Basket>,
}

/// A method's operating figures for the `time` object.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Operating {
    pub seconds: f64,
    /// Unix seconds when the oldest basket expires (now + 600 when there is none).
    pub reset_at: i64,
}

impl OperatingWindow {
    fn expire(&mut self, now: f64) {
        while self
            .baskets
            .front()
            .is_some_and(|b| b.first_call + WINDOW_SECONDS <= now)
        {
            self.baskets.pop_front();
        }
    }

    /// The live total and when the oldest basket expires.
    pub fn at(&mut self, now: f64) -> Operating {
        self.expire(now);
        let seconds = self.baskets.iter().map(|b| b.seconds).sum();
        let reset_at = self
            .baskets
            .front()
            .map(|b| b.first_call + WINDOW_SECONDS)
            .unwrap_or(now + WINDOW_SECONDS);
        Operating {
            seconds,
            reset_at: reset_at.floor() as i64,
        }
    }

    /// Adds a call's seconds to the basket of the current minute.
    pub fn record(&mut self, now: f64, seconds: f64) -> Operating {
        self.expire(now);
        let minute = (now / BASKET_SECONDS).floor() as i64;
        match self.baskets.back_mut() {
            Some(b) if b.minute == minute => b.seconds += seconds,
            _ => self.baskets.push_back(Basket {
                minute,
                first_call: now,
                seconds,
            }),
        }
        self.at(now)
    }

    fn is_empty(&mut self, now: f64) -> bool {
        self.expire(now);
        self.baskets.is_empty()
    }
}

// ---------------------------------------------------------------------------------- state

/// Where limiter state lives, keyed by strings (`rate:{portal}:{ip}`, `op:{portal}:{credential}:{method}`)
/// so that a shared store (Redis) can implement it for several instances.
pub trait LimiterState: Send + Sync {
    /// Counts a request in the bucket `key`; false when it must be refused.
    fn admit<'a>(&'a self, key: &'a str, now: f64, limit: RateLimit) -> BoxFuture<'a, bool>;
    /// The operating figures of `key` now.
    fn operating<'a>(&'a self, key: &'a str, now: f64) -> BoxFuture<'a, Operating>;
    /// Bills `seconds` to `key` and returns the figures including them.
    fn bill<'a>(&'a self, key: &'a str, now: f64, seconds: f64) -> BoxFuture<'a, Operating>;
}

/// Limiter state of one process. Idle entries are swept when a map has doubled in size.
#[derive(Default)]
pub struct MemoryState {
    buckets: Mutex<Swept<LeakyBucket>>,
    windows: Mutex<Swept<OperatingWindow>>,
}

struct Swept<T> {
    map: HashMap<String, T>,
    sweep_at: usize,
}

impl<T> Default for Swept<T> {
    fn default() -> Self {
        Swept {
            map: HashMap::new(),
            sweep_at: 4096,
        }
    }
}

impl<T> Swept<T> {
    fn entry(
        &mut self,
        key: &str,
        make: impl FnOnce() -> T,
        idle: impl FnMut(&mut T) -> bool,
    ) -> &mut T {
        if !self.map.contains_key(key) {
            if self.map.len() >= self.sweep_at {
                let mut idle = idle;
                self.map.retain(|_, v| !idle(v));
                self.sweep_at = (self.map.len() * 2).max(4096);
            }
            self.map.insert(key.to_string(), make());
        }
        self.map.get_mut(key).expect("inserted above")
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The state stays consistent even if a holder panicked: every update is a single assignment.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl LimiterState for MemoryState {
    fn admit<'a>(&'a self, key: &'a str, now: f64, limit: RateLimit) -> BoxFuture<'a, bool> {
        let mut buckets = lock(&self.buckets);
        let bucket = buckets.entry(
            key,
            || LeakyBucket::new(now),
            |b| b.level(now, limit) <= 0.0,
        );
        ready(bucket.admit(now, limit)).boxed()
    }

    fn operating<'a>(&'a self, key: &'a str, now: f64) -> BoxFuture<'a, Operating> {
        let mut windows = lock(&self.windows);
        let figures = match windows.map.get_mut(key) {
            Some(w) => w.at(now),
            None => OperatingWindow::default().at(now),
        };
        ready(figures).boxed()
    }

    fn bill<'a>(&'a self, key: &'a str, now: f64, seconds: f64) -> BoxFuture<'a, Operating> {
        let mut windows = lock(&self.windows);
        let window = windows.entry(key, OperatingWindow::default, |w| w.is_empty(now));
        ready(window.record(now, seconds)).boxed()
    }
}

// ---------------------------------------------------------------------------------- the limiter

/// The server's limiter: settings, clock and state together.
pub struct Limits {
    config: LimitsConfig,
    clock: Arc<dyn Clock>,
    state: Arc<dyn LimiterState>,
}

impl Limits {
    pub fn new(config: LimitsConfig, clock: Arc<dyn Clock>) -> Self {
        Self::with_state(config, clock, Arc::new(MemoryState::default()))
    }

    pub fn with_state(
        config: LimitsConfig,
        clock: Arc<dyn Clock>,
        state: Arc<dyn LimiterState>,
    ) -> Self {
        Limits {
            config,
            clock,
            state,
        }
    }

    pub fn config(&self) -> &LimitsConfig {
        &self.config
    }

    /// The leaky bucket for one HTTP request (a batch is one request): 503 when full.
    pub async fn admit(&self, caller: &Caller, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let Some(limit) = self.config.rate_limit else {
            return Ok(());
        };
        let portal = caller.portal.id;
        let key = match self.config.rate_key {
            RateKey::Portal => format!("rate:{portal}"),
            RateKey::PortalIp => match ip {
                Some(ip) => format!("rate:{portal}:{ip}"),
                None => format!("rate:{portal}:unknown"),
            },
            RateKey::PortalCredential => format!("rate:{portal}:{}", caller.credential),
        };
        if self.state.admit(&key, self.clock.now(), limit).await {
            Ok(())
        } else {
            Err(ApiError::QueryLimitExceeded)
        }
    }

    fn billed(&self, method: &str) -> bool {
        self.config.operating.accounting && !UNBILLED.contains(&method)
    }

    fn operating_key(caller: &Caller, method: &str) -> String {
        format!("op:{}:{}:{method}", caller.portal.id, caller.credential)
    }

    /// Before a method runs: 429 when blocking is on and this caller's time for this method is
    /// above the limit. The call that crosses the limit still runs; the next one is refused.
    pub async fn check(&self, caller: &Caller, method: &str) -> Result<(), ApiError> {
        let op = &self.config.operating;
        if !op.block || !self.billed(method) {
            return Ok(());
        }
        let now = self.clock.now();
        let figures = self
            .state
            .operating(&Self::operating_key(caller, method), now)
            .await;
        if figures.seconds > op.limit_seconds {
            Err(ApiError::OperationTimeLimit)
        } else {
            Ok(())
        }
    }

    /// After a method ran for `measured` seconds: bills it (plus any synthetic cost) and returns
    /// the figures for its `time` object.
    pub async fn bill(&self, caller: &Caller, method: &str, measured: f64) -> Operating {
        let now = self.clock.now();
        if !self.billed(method) {
            return idle(now);
        }
        let op = &self.config.operating;
        let key = Self::operating_key(caller, method);
        let seconds = measured.max(0.0) + op.synthetic_cost.for_method(method);
        if seconds < op.min_billable_seconds || seconds <= 0.0 {
            return self.state.operating(&key, now).await;
        }
        self.state.bill(&key, now, seconds).await
    }
}

/// The figures when nothing is accounted: 0, reset in ten minutes.
fn idle(now: f64) -> Operating {
    Operating {
        seconds: 0.0,
        reset_at: (now + WINDOW_SECONDS).floor() as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: f64 = 1_700_000_000.0;

    #[test]
    fn parses_settings() {
        assert_eq!(RateLimit::parse("off"), Ok(None));
        assert_eq!(RateLimit::parse("standard"), Ok(Some(RateLimit::STANDARD)));
        assert_eq!(
            RateLimit::parse("Enterprise"),
            Ok(Some(RateLimit::ENTERPRISE))
        );
        assert_eq!(
            RateLimit::parse("10/0.5"),
            Ok(Some(RateLimit {
                burst: 10.0,
                drain_per_second: 0.5
            }))
        );
        assert!(RateLimit::parse("10").is_err());
        assert!(RateLimit::parse("0/2").is_err());
        assert!(RateLimit::parse("5/0").is_err());
        assert_eq!(RateKey::parse("portal+IP"), Ok(RateKey::PortalIp));
        assert!(RateKey::parse("ip").is_err());

        let c = SyntheticCost::parse("crm.lead.list=20, *=0.5").unwrap();
        assert_eq!(c.for_method("crm.lead.list"), 20.0);
        assert_eq!(c.for_method("crm.lead.get"), 0.5);
        assert_eq!(SyntheticCost::parse("2").unwrap().for_method("x"), 2.0);
        assert_eq!(SyntheticCost::parse("").unwrap(), SyntheticCost::default());
        assert!(SyntheticCost::parse("a=-1").is_err());
        assert!(SyntheticCost::parse("a=b").is_err());
    }

    #[test]
    fn bucket_admits_burst_then_drains() {
        let limit = RateLimit::STANDARD;
        let mut b = LeakyBucket::new(T0);
        for i in 0..50 {
            assert!(b.admit(T0, limit), "request {i} of the burst");
        }
        assert!(!b.admit(T0, limit), "the 51st at once is refused");
        assert_eq!(b.level(T0, limit), 50.0, "a refused request is not counted");
        // 2 per second: after 0.4 s only 0.8 has drained, so still full.
        assert!(!b.admit(T0 + 0.4, limit));
        // After 0.5 s one slot is free, and exactly one.
        assert!(b.admit(T0 + 0.5, limit));
        assert!(!b.admit(T0 + 0.5, limit));
        // After 10 more seconds 20 slots are free.
        let t = T0 + 10.5;
        assert_eq!(b.level(t, limit), 30.0);
        for _ in 0..20 {
            assert!(b.admit(t, limit));
        }
        assert!(!b.admit(t, limit));
        // A long pause empties the bucket, never below zero.
        assert_eq!(b.level(t + 3600.0, limit), 0.0);
        for _ in 0..50 {
            assert!(b.admit(t + 3600.0, limit));
        }
        assert!(!b.admit(t + 3600.0, limit));
    }

    #[test]
    fn enterprise_bucket() {
        let limit = RateLimit::ENTERPRISE;
        let mut b = LeakyBucket::new(T0);
        assert_eq!((0..300).filter(|_| b.admit(T0, limit)).count(), 250);
        // 5 per second.
        assert_eq!((0..300).filter(|_| b.admit(T0 + 2.0, limit)).count(), 10);
    }

    #[test]
    fn basket_reset_at_is_first_call_plus_ten_minutes() {
        // Docs: the basket's first call at 10:05:20 → operating_reset_at 10:15:20.
        let t = 1_718_272_800.0 + 5.0 * 60.0 + 20.0; // 2024-06-13 10:05:20 UTC
        assert_eq!(t as i64 % 3600, 5 * 60 + 20);
        let mut w = OperatingWindow::default();
        let f = w.record(t, 1.5);
        assert_eq!(f.seconds, 1.5);
        assert_eq!(f.reset_at, t as i64 + 600);
        // A later call in the same minute joins the basket and keeps the reset time.
        let f = w.record(t + 30.0, 2.0);
        assert_eq!(f.seconds, 3.5);
        assert_eq!(f.reset_at, t as i64 + 600);
        // The next minute opens a new basket; the oldest still decides the reset time.
        let f = w.record(t + 45.0, 1.0);
        assert_eq!(f.seconds, 4.5);
        assert_eq!(f.reset_at, t as i64 + 600);
        // At 10:15:20 the first basket expires; the second (first call 10:06:05) remains.
        let f = w.at(t + 600.0);
        assert_eq!(f.seconds, 1.0);
        assert_eq!(f.reset_at, t as i64 + 45 + 600);
        let f = w.at(t + 645.0);
        assert_eq!(f.seconds, 0.0);
        assert_eq!(f.reset_at, t as i64 + 645 + 600);
    }

    fn config(block: bool, cost: &str) -> LimitsConfig {
        LimitsConfig {
            rate_limit: Some(RateLimit::STANDARD),
            rate_key: RateKey::PortalIp,
            operating: OperatingConfig {
                block,
                synthetic_cost: SyntheticCost::parse(cost).unwrap(),
                ..Default::default()
            },
        }
    }

    fn caller(credential: &str) -> Caller {
        Caller::for_tests(1, credential)
    }

    #[tokio::test]
    async fn docs_example_480_seconds() {
        // Docs: limit 480 s, each crm.item.list call costs 20 s. 20 calls → 400 s; five more →
        // 500 s; the next call is blocked; when the oldest basket (40 s) expires → 460 s → allowed.
        let clock = ManualClock::new(1_718_272_800.0); // a minute boundary
        let limits = Limits::new(config(true, "crm.item.list=20"), clock.clone());
        let c = caller("webhook:1");
        let m = "crm.item.list";
        // Two calls in the first minute: the basket that expires first holds 40 s.
        for _ in 0..2 {
            limits.check(&c, m).await.unwrap();
            limits.bill(&c, m, 0.0).await;
            clock.advance(10.0);
        }
        clock.set(1_718_272_800.0 + 60.0);
        for i in 2..20 {
            limits.check(&c, m).await.unwrap();
            let f = limits.bill(&c, m, 0.0).await;
            assert_eq!(f.seconds, 20.0 * (i + 1) as f64);
            assert_eq!(f.reset_at, 1_718_272_800 + 600, "the oldest basket decides");
            clock.advance(1.0);
        }
        assert_eq!(limits.bill(&c, "other", 0.0).await.seconds, 0.0);
        for _ in 0..5 {
            limits.check(&c, m).await.unwrap();
            limits.bill(&c, m, 0.0).await;
        }
        let f = limits
            .state
            .operating("op:1:webhook:1:crm.item.list", clock.now())
            .await;
        assert_eq!(f.seconds, 500.0);
        assert_eq!(limits.check(&c, m).await, Err(ApiError::OperationTimeLimit));
        // Other methods and other credentials are not affected.
        limits.check(&c, "crm.item.get").await.unwrap();
        limits.check(&caller("webhook:2"), m).await.unwrap();
        // Still blocked one second before the first basket expires...
        clock.set(1_718_272_800.0 + 599.0);
        assert_eq!(limits.check(&c, m).await, Err(ApiError::OperationTimeLimit));
        // ...and allowed when it does: 500 - 40 = 460 s.
        clock.set(1_718_272_800.0 + 600.0);
        limits.check(&c, m).await.unwrap();
        let f = limits.bill(&c, m, 0.0).await;
        assert_eq!(f.seconds, 480.0, "460 + this call's 20");
        // Exactly at the limit is not above it.
        limits.check(&c, m).await.unwrap();
    }

    #[tokio::test]
    async fn accounting_without_blocking_and_floor() {
        let clock = ManualClock::new(T0);
        let mut cfg = config(false, "a=300");
        cfg.operating.min_billable_seconds = 0.1;
        let limits = Limits::new(cfg, clock.clone());
        let c = caller("app:7");
        for _ in 0..3 {
            limits.check(&c, "a").await.unwrap();
            limits.bill(&c, "a", 0.0).await;
        }
        // Over the limit, but blocking is off: only reported.
        let f = limits.bill(&c, "a", 0.0).await;
        assert_eq!(f.seconds, 1200.0);
        limits.check(&c, "a").await.unwrap();
        // Below the floor: not billed, figures unchanged.
        assert_eq!(limits.bill(&c, "b", 0.05).await.seconds, 0.0);
        assert_eq!(limits.bill(&c, "b", 0.25).await.seconds, 0.25);
        // The outer batch is never billed.
        let f = limits.bill(&c, "batch", 5.0).await;
        assert_eq!(f.seconds, 0.0);
        assert_eq!(f.reset_at, T0 as i64 + 600);
    }

    #[tokio::test]
    async fn accounting_off_reports_idle_figures() {
        let clock = ManualClock::new(T0);
        let mut cfg = config(true, "9999");
        cfg.operating.accounting = false;
        let limits = Limits::new(cfg, clock.clone());
        let c = caller("webhook:1");
        for _ in 0..3 {
            limits.check(&c, "a").await.unwrap();
            let f = limits.bill(&c, "a", 1.0).await;
            assert_eq!(
                f,
                Operating {
                    seconds: 0.0,
                    reset_at: T0 as i64 + 600
                }
            );
        }
    }

    #[tokio::test]
    async fn rate_keys() {
        let clock = ManualClock::new(T0);
        let mut cfg = config(false, "");
        cfg.rate_limit = Some(RateLimit {
            burst: 2.0,
            drain_per_second: 1.0,
        });
        let limits = Limits::new(cfg.clone(), clock.clone());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let c = caller("webhook:1");
        assert!(limits.admit(&c, Some(a)).await.is_ok());
        assert!(limits.admit(&c, Some(a)).await.is_ok());
        assert_eq!(
            limits.admit(&c, Some(a)).await,
            Err(ApiError::QueryLimitExceeded)
        );
        // Another IP has its own bucket; another credential from the same IP shares it.
        assert!(limits.admit(&c, Some(b)).await.is_ok());
        assert!(limits.admit(&caller("app:1"), Some(a)).await.is_err());
        clock.advance(1.0);
        assert!(limits.admit(&caller("app:1"), Some(a)).await.is_ok());

        cfg.rate_key = RateKey::PortalCredential;
        let limits = Limits::new(cfg.clone(), clock.clone());
        for _ in 0..2 {
            limits.admit(&c, Some(a)).await.unwrap();
        }
        assert!(limits.admit(&c, Some(b)).await.is_err());
        assert!(limits.admit(&caller("app:1"), Some(a)).await.is_ok());

        cfg.rate_limit = None;
        let limits = Limits::new(cfg, clock.clone());
        for _ in 0..100 {
            limits.admit(&c, Some(a)).await.unwrap();
        }
    }

    #[test]
    fn idle_entries_are_swept() {
        let state = MemoryState::default();
        let limit = RateLimit::STANDARD;
        for i in 0..4096 {
            assert!(state
                .admit(&format!("k{i}"), T0, limit)
                .now_or_never()
                .unwrap());
        }
        // An hour later every bucket is empty: the next new key sweeps them all away.
        assert!(state
            .admit("new", T0 + 3600.0, limit)
            .now_or_never()
            .unwrap());
        assert_eq!(lock(&state.buckets).map.len(), 1);
    }
}
