//! The meters without the `metrics` feature: the calls of `meter.rs` off
//! the hot path, each an empty inline function on a type of size zero (the
//! hot path's own calls are left out altogether by `metered!`).

#![allow(clippy::unused_self)]

use super::HandleKind;
use crate::cmd::Cmd;
use crate::config::Config;
use crate::error::{Error, Result};
use std::time::Duration;

/// A request's start (nothing without the feature).
pub(crate) struct OpTimer;

/// A handle's operation figures.
pub(crate) struct OpMeter;

impl OpMeter {
    #[inline(always)]
    pub(crate) fn new(_config: &Config, _kind: HandleKind) -> Self {
        OpMeter
    }
    #[inline(always)]
    pub(crate) fn start(&self, _cmd: &Cmd) -> OpTimer {
        OpTimer
    }
    #[cfg(feature = "client-cache")]
    #[inline(always)]
    pub(crate) fn idle(&self) -> Option<OpTimer> {
        Some(OpTimer)
    }
    #[inline(always)]
    pub(crate) fn start_pipeline(&self, _atomic: bool) -> OpTimer {
        OpTimer
    }
    #[inline(always)]
    pub(crate) fn finish(&self, _timer: &OpTimer, _error: Option<&Error>) {}
}

/// A connection actor's figures.
pub(crate) struct ConnMeter;

impl ConnMeter {
    #[inline(always)]
    pub(crate) fn new(_config: &Config, _kind: HandleKind) -> Self {
        ConnMeter
    }
    #[inline(always)]
    pub(crate) fn connected(&mut self, _took: Duration) {}
    #[inline(always)]
    pub(crate) fn disconnected(&mut self, _cause: &Error, _reconnecting: bool) {}
    #[inline(always)]
    pub(crate) fn resubscribed(&self) {}
    #[inline(always)]
    pub(crate) fn failover(&self) {}
}

/// A pool's figures.
#[cfg_attr(not(feature = "pool"), allow(dead_code))]
pub(crate) struct PoolMeter;

#[cfg_attr(not(feature = "pool"), allow(dead_code))]
impl PoolMeter {
    #[inline(always)]
    pub(crate) fn new(_config: &Config) -> Self {
        PoolMeter
    }
    #[inline(always)]
    pub(crate) fn checkout<T>(&self, _took: Duration, _outcome: &Result<T>) {}
    #[inline(always)]
    pub(crate) fn created(&self, _took: Duration) {}
    #[inline(always)]
    // Called from `metered!` only: unused without the feature.
    #[allow(dead_code)]
    pub(crate) fn levels(&self, _idle: u32, _used: u32) {}
}

/// A cluster router's figures.
pub(crate) struct ClusterMeter;

impl ClusterMeter {
    #[inline(always)]
    pub(crate) fn new(_seed: Option<&crate::Addr>) -> Self {
        ClusterMeter
    }
    #[inline(always)]
    pub(crate) fn redirect(&self, _moved: bool) {}
    #[inline(always)]
    pub(crate) fn refreshed(&self, _outcome: &Result<()>) {}
    #[inline(always)]
    pub(crate) fn hole(&self) {}
}

/// A client-side cache's figures (nothing without the feature).
#[cfg(feature = "client-cache")]
pub(crate) struct CacheMeter;

#[cfg(feature = "client-cache")]
impl CacheMeter {
    #[inline(always)]
    pub(crate) fn new(_config: &Config) -> Self {
        CacheMeter
    }

    #[inline(always)]
    pub(crate) fn report(&mut self, _now: crate::CacheStats) {}
}
