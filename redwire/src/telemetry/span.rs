//! The `tracing` span of one command or pipeline, made by the handle, and
//! what a request carries to report itself when it ends ([`Observed`]).
//!
//! A span is made only when a subscriber enables level `DEBUG` at target
//! `redwire::command` (`tracing::enabled!`, a cached answer): otherwise a
//! request carries `None` and pays one branch to make it and one to end it.
//! A command's future keeps its span in a box it has for rare things, so
//! that it does not grow (see `client::sending` on why it stays small).
//! The span is not entered while the request waits: its parent is the span
//! current where the call was made, which is what OpenTelemetry needs, and
//! nothing runs inside it (the connection's actor is another task).

use super::meter::OpTimer;
use super::{endpoint, error_type, names, QueryText};
use crate::cmd::Cmd;
use crate::config::Config;
use crate::error::{Error, Result};
use tracing::field::Empty;
use tracing::Span;

/// The longest `db.query.text`, in bytes; a longer one is cut and ends in `…`.
const QUERY_TEXT_MAX: usize = 256;

/// The commands whose arguments are never shown, whatever the configuration
/// says: they carry passwords (`AUTH`, `HELLO … AUTH`, `CONFIG SET
/// requirepass`, `ACL SETUSER`, `MIGRATE … AUTH`).
const SECRET_BEARING: &[&str] = &["ACL", "AUTH", "CONFIG", "HELLO", "MIGRATE"];

/// A request's span, if a subscriber wants it.
pub(crate) struct OpSpan(Option<Span>);

impl OpSpan {
    /// The span of `cmd`, if enabled.
    #[inline]
    pub(crate) fn command(config: &Config, cmd: &Cmd) -> OpSpan {
        if tracing::enabled!(target: "redwire::command", tracing::Level::DEBUG) {
            return OpSpan(Some(command_span(config, cmd)));
        }
        OpSpan(None)
    }

    /// The span of a pipeline of `len` commands, if enabled.
    #[inline]
    pub(crate) fn pipeline(config: &Config, len: usize, atomic: bool) -> OpSpan {
        if tracing::enabled!(target: "redwire::command", tracing::Level::DEBUG) {
            return OpSpan(Some(pipeline_span(config, len, atomic)));
        }
        OpSpan(None)
    }

    /// No span.
    #[cfg(feature = "client-cache")]
    #[inline]
    pub(crate) fn none() -> OpSpan {
        OpSpan(None)
    }

    /// No span: nobody listens.
    #[inline]
    pub(crate) fn is_none(&self) -> bool {
        self.0.is_none()
    }

    /// Records a failure on the span.
    #[inline]
    pub(crate) fn fail(&self, error: &Error) {
        if let Some(span) = &self.0 {
            span.record("error.type", error_type(error));
            span.record("otel.status_code", "ERROR");
        }
    }
}

#[cold]
#[inline(never)]
fn command_span(config: &Config, cmd: &Cmd) -> Span {
    let raw = cmd.args_iter().next().unwrap_or_default();
    let known = names::index(raw);
    let name = if known == names::OTHER_INDEX {
        // Not a label: a span may name a command the table lacks.
        let cut = &raw[..raw.len().min(32)];
        String::from_utf8_lossy(cut).to_ascii_uppercase()
    } else {
        names::label(known).to_owned()
    };
    let (address, port) = endpoint(config);
    let span = tracing::debug_span!(
        target: "redwire::command",
        "redis.command",
        otel.name = %name,
        otel.kind = "client",
        otel.status_code = Empty,
        db.system.name = "redis",
        db.operation.name = %name,
        db.namespace = %config.database,
        db.query.text = Empty,
        server.address = %address,
        server.port = port,
        error.type = Empty,
    );
    if config.query_text != QueryText::Off {
        span.record(
            "db.query.text",
            query_text(cmd, &name, config.query_text).as_str(),
        );
    }
    span
}

#[cold]
#[inline(never)]
fn pipeline_span(config: &Config, len: usize, atomic: bool) -> Span {
    let name = if atomic {
        super::TRANSACTION
    } else {
        super::PIPELINE
    };
    let (address, port) = endpoint(config);
    tracing::debug_span!(
        target: "redwire::command",
        "redis.pipeline",
        otel.name = name,
        otel.kind = "client",
        otel.status_code = Empty,
        db.system.name = "redis",
        db.operation.name = name,
        db.operation.batch.size = len,
        db.namespace = %config.database,
        server.address = %address,
        server.port = port,
        error.type = Empty,
    )
}

/// `db.query.text` of `cmd` (named `name`): `?` for every argument, or
/// with [`QueryText::Full`] the arguments themselves, except for the
/// commands that carry credentials.
fn query_text(cmd: &Cmd, name: &str, mode: QueryText) -> String {
    let secret = SECRET_BEARING.contains(&name);
    let mut text = name.to_owned();
    for arg in cmd.args_iter().skip(1) {
        if secret {
            // Not even how many arguments: `HELLO 3` and `HELLO 3 AUTH u p`
            // would tell a password is there.
            break;
        }
        text.push(' ');
        match mode {
            QueryText::Full => text.push_str(&String::from_utf8_lossy(arg)),
            _ => text.push('?'),
        }
        if text.len() > QUERY_TEXT_MAX {
            let mut cut = QUERY_TEXT_MAX;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
            break;
        }
    }
    text
}

/// What a request carries to report its end: its span and its timer.
pub(crate) struct Observed {
    span: OpSpan,
    timer: OpTimer,
}

impl Observed {
    /// The observation of one command.
    #[inline]
    pub(crate) fn command(link: &crate::client::link::Link, cmd: &Cmd) -> Observed {
        Observed {
            span: OpSpan::command(&link.config, cmd),
            timer: link.meter.start(cmd),
        }
    }

    /// The observation of an operation when nobody observes (no span
    /// enabled, no recorder), else `None`: a cache hit then skips building
    /// the command a span or a timer would describe.
    #[cfg(feature = "client-cache")]
    #[inline]
    pub(crate) fn quiet(link: &crate::client::link::Link) -> Option<Observed> {
        if tracing::enabled!(target: "redwire::command", tracing::Level::DEBUG) {
            return None;
        }
        Some(Observed {
            span: OpSpan::none(),
            timer: link.meter.idle()?,
        })
    }

    /// The observation of a pipeline.
    #[inline]
    pub(crate) fn pipeline(
        link: &crate::client::link::Link,
        pipeline: &crate::pipeline::Pipeline,
    ) -> Observed {
        let atomic = pipeline.is_atomic();
        Observed {
            span: OpSpan::pipeline(&link.config, pipeline.len(), atomic),
            timer: link.meter.start_pipeline(atomic),
        }
    }

    /// The request ended with `result` (see [`finish`]).
    #[inline]
    pub(crate) fn finish<T>(&self, link: &crate::client::link::Link, result: &Result<T>) {
        finish(link, Some(&self.span), &self.timer, result);
    }

    /// The span and the timer, for a future that keeps them apart.
    #[inline]
    pub(crate) fn into_parts(self) -> (OpSpan, OpTimer) {
        (self.span, self.timer)
    }
}

/// A request ended with `result`: its span hears of a failure, its
/// duration goes to the histogram.
#[inline]
pub(crate) fn finish<T>(
    link: &crate::client::link::Link,
    span: Option<&OpSpan>,
    timer: &OpTimer,
    result: &Result<T>,
) {
    if let Some(span) = span {
        if let Err(error) = result {
            span.fail(error);
        }
    }
    link.meter.finish(timer, result.as_ref().err());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::cmd;

    #[test]
    fn query_text_is_redacted_unless_full_and_never_shows_credentials() {
        let set = cmd("SET").arg("k").arg("v");
        assert_eq!(query_text(&set, "SET", QueryText::Redacted), "SET ? ?");
        assert_eq!(query_text(&set, "SET", QueryText::Full), "SET k v");
        let auth = cmd("AUTH").arg("alice").arg("s3cret");
        assert_eq!(query_text(&auth, "AUTH", QueryText::Full), "AUTH");
        let hello = cmd("HELLO").arg(3).arg("AUTH").arg("u").arg("s3cret");
        assert_eq!(query_text(&hello, "HELLO", QueryText::Full), "HELLO");
        let config = cmd("CONFIG").arg("SET").arg("requirepass").arg("s3cret");
        assert_eq!(query_text(&config, "CONFIG", QueryText::Full), "CONFIG");
    }

    #[test]
    fn a_long_query_text_is_cut() {
        let big = cmd("SET").arg("k").arg("é".repeat(300));
        let text = query_text(&big, "SET", QueryText::Full);
        assert!(text.len() <= QUERY_TEXT_MAX + '…'.len_utf8());
        assert!(text.ends_with('…'));
    }
}
