//! Spans and events against a real server, through an in-memory `tracing`
//! layer that records every span (name, target, parent, fields, later
//! records included) and every event: the command and pipeline spans carry
//! the OpenTelemetry attributes, a failure marks its span, a subscriber at
//! INFO gets no span but the lifecycle events, and no password shows in any
//! span or event (a server with a password; `AUTH`, `HELLO … AUTH` and
//! `CONFIG SET requirepass` sent with the query text shown in full).

mod support;

use redwire::prelude::*;
use redwire::telemetry::{self as t, QueryText};
use redwire_testkit::{FaultProxy, RedisServer};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{config, wait_event};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Filter, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

#[derive(Debug, Clone)]
struct SpanRecord {
    id: u64,
    name: &'static str,
    target: String,
    parent: Option<u64>,
    fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
struct EventRecord {
    target: String,
    level: Level,
    fields: BTreeMap<String, String>,
}

/// What the layer saw.
#[derive(Default, Clone)]
struct Seen(Arc<Mutex<(Vec<SpanRecord>, Vec<EventRecord>)>>);

impl Seen {
    fn spans(&self) -> Vec<SpanRecord> {
        self.0.lock().unwrap().0.clone()
    }
    fn events(&self) -> Vec<EventRecord> {
        self.0.lock().unwrap().1.clone()
    }
    fn spans_named(&self, name: &str) -> Vec<SpanRecord> {
        self.spans()
            .into_iter()
            .filter(|s| s.name == name)
            .collect()
    }
    /// Everything recorded, as text.
    fn all_text(&self) -> String {
        format!("{:?}\n{:?}", self.spans(), self.events())
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Seen {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let parent = ctx
            .span(id)
            .and_then(|s| s.parent().map(|p| p.id().into_u64()));
        self.0.lock().unwrap().0.push(SpanRecord {
            id: id.into_u64(),
            name: attrs.metadata().name(),
            target: attrs.metadata().target().to_owned(),
            parent,
            fields,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut seen = self.0.lock().unwrap();
        if let Some(span) = seen.0.iter_mut().rev().find(|s| s.id == id.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().1.push(EventRecord {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            fields,
        });
    }
}

/// Lets through what is at `level` or more severe, deciding every time:
/// `tracing` caches a callsite's interest across every thread's
/// subscriber, and the tests run side by side with subscribers of their
/// own, so no answer may be cached.
struct UpTo(LevelFilter);

impl<S> Filter<S> for UpTo {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        self.0 >= *meta.level()
    }
    fn callsite_enabled(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }
}

/// Runs `test` on a current-thread runtime with the recording layer as this
/// thread's subscriber, letting through what `level` enables.
fn traced<F: Future<Output = ()>>(level: LevelFilter, test: impl FnOnce(Seen) -> F) {
    let seen = Seen::default();
    let subscriber = tracing_subscriber::registry().with(seen.clone().with_filter(UpTo(level)));
    tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(test(seen))
    });
}

fn field<'a>(span: &'a SpanRecord, name: &str) -> &'a str {
    span.fields
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {span:?}"))
}

#[test]
fn a_command_and_a_pipeline_get_spans_with_the_opentelemetry_attributes() {
    traced(LevelFilter::DEBUG, |seen| async move {
        let server = RedisServer::start().unwrap();
        let port = server.port().to_string();
        let cfg = config(&format!("{}/3", server.url()))
            .into_builder()
            .trace_query_text(QueryText::Redacted)
            .build();
        let client = Client::connect(cfg).await.unwrap();
        let parent = tracing::info_span!("request handler");
        {
            let _entered = parent.enter();
            client.set("k", "v").await.unwrap();
        }
        assert_eq!(client.get::<String>("k").await.unwrap(), "v");
        client.lpush("k", ["x"]).await.unwrap_err();
        let mut p = Pipeline::new();
        p.add(cmd("INCR").arg("n"))
            .add(cmd("INCR").arg("n"))
            .add(cmd("GET").arg("k"));
        client.pipeline(&p).await.unwrap();

        let commands = seen.spans_named(t::COMMAND_SPAN);
        let names: Vec<_> = commands.iter().map(|s| field(s, "otel.name")).collect();
        assert_eq!(names, ["SET", "GET", "LPUSH"], "one span per command");
        for span in &commands {
            assert_eq!(span.target, t::COMMAND_TARGET);
            assert_eq!(field(span, "db.system.name"), "redis");
            assert_eq!(field(span, "otel.kind"), "client");
            assert_eq!(field(span, "db.operation.name"), field(span, "otel.name"));
            assert_eq!(field(span, "db.namespace"), "3");
            assert_eq!(field(span, "server.address"), "127.0.0.1");
            assert_eq!(field(span, "server.port"), port);
        }
        assert_eq!(commands[0].parent, Some(parent.id().unwrap().into_u64()));
        assert_eq!(field(&commands[0], "db.query.text"), "SET ? ?");
        assert_eq!(field(&commands[1], "db.query.text"), "GET ?");
        assert!(!commands[1].fields.contains_key("error.type"));
        assert_eq!(field(&commands[2], "error.type"), "WRONGTYPE");
        assert_eq!(field(&commands[2], "otel.status_code"), "ERROR");

        let pipelines = seen.spans_named(t::PIPELINE_SPAN);
        assert_eq!(pipelines.len(), 1, "one span for the whole pipeline");
        assert_eq!(field(&pipelines[0], "db.operation.name"), "PIPELINE");
        assert_eq!(field(&pipelines[0], "db.operation.batch.size"), "3");
        assert_eq!(field(&pipelines[0], "server.port"), port);
        assert_eq!(commands.len() + pipelines.len(), 4, "no span per entry");
    });
}

#[test]
fn at_info_no_span_is_made_but_the_lifecycle_events_are_told() {
    traced(LevelFilter::INFO, |seen| async move {
        let server = RedisServer::start().unwrap();
        let proxy = FaultProxy::start(server.addr()).unwrap();
        let client = Client::connect(config(&proxy.url())).await.unwrap();
        client.set("k", "v").await.unwrap();
        let mut events = client.events();
        proxy.reset_all();
        wait_event(&mut events, Duration::from_secs(5), |e| {
            matches!(e, redwire::Event::Connected { .. }).then_some(())
        })
        .await;
        client.get::<String>("k").await.unwrap();

        assert!(seen.spans().is_empty(), "{:?}", seen.spans());
        let lifecycle: Vec<_> = seen
            .events()
            .into_iter()
            .filter(|e| e.target == t::CONNECTION_TARGET)
            .collect();
        let said = |m: &str| {
            lifecycle
                .iter()
                .filter(|e| e.fields["message"] == m)
                .count()
        };
        assert_eq!(said("connected"), 2, "{lifecycle:?}");
        assert_eq!(said("disconnected"), 1, "{lifecycle:?}");
        let connected = lifecycle
            .iter()
            .find(|e| e.fields["message"] == "connected");
        assert_eq!(connected.unwrap().level, Level::INFO);
        let dropped = lifecycle
            .iter()
            .find(|e| e.fields["message"] == "disconnected")
            .unwrap();
        assert_eq!(dropped.level, Level::WARN);
        assert_eq!(dropped.fields["error.type"], "connection_lost");
        assert!(dropped.fields.contains_key("reason"));
    });
}

#[test]
fn no_password_shows_in_any_span_or_event() {
    const PASSWORD: &str = "pw-5ecret-never-shown";
    traced(LevelFilter::TRACE, |seen| async move {
        let server = RedisServer::builder().password(PASSWORD).start().unwrap();
        let proxy = FaultProxy::start(server.addr()).unwrap();
        let url = format!("redis://:{PASSWORD}@{}", proxy.addr());
        let full = |url: &str| {
            config(url)
                .into_builder()
                .trace_query_text(QueryText::Full)
                .build()
        };
        let client = Client::connect(full(&url)).await.unwrap();
        // Refused before sending, but spanned all the same.
        client
            .send(&cmd("AUTH").arg("default").arg(PASSWORD))
            .await
            .unwrap_err();
        client
            .send(&cmd("HELLO").arg(3).arg("AUTH").arg("default").arg(PASSWORD))
            .await
            .unwrap_err();
        let mut conn = Connection::connect(full(&url)).await.unwrap();
        conn.send(&cmd("CONFIG").arg("SET").arg("requirepass").arg(PASSWORD))
            .await
            .unwrap();
        conn.send(
            &cmd("ACL")
                .arg("SETUSER")
                .arg("u")
                .arg(format!(">{PASSWORD}")),
        )
        .await
        .unwrap();
        // A shown argument, so that the test sees full text is on.
        client.set("k", "plain-value").await.unwrap();
        // A reconnect (the handshake sends the password again) and a
        // client that cannot log in.
        let mut events = client.events();
        proxy.reset_all();
        wait_event(&mut events, Duration::from_secs(5), |e| {
            matches!(e, redwire::Event::Connected { .. }).then_some(())
        })
        .await;
        let wrong = format!("redis://:{PASSWORD}-wrong@{}", proxy.addr());
        Client::connect(full(&wrong)).await.unwrap_err();

        let text = seen.all_text();
        assert!(
            text.contains("SET k plain-value"),
            "full text is on: {text}"
        );
        for name in ["AUTH", "HELLO", "CONFIG", "ACL"] {
            let span = seen
                .spans_named(t::COMMAND_SPAN)
                .into_iter()
                .find(|s| field(s, "otel.name") == name)
                .unwrap_or_else(|| panic!("no {name} span"));
            assert_eq!(field(&span, "db.query.text"), name);
        }
        assert!(!text.contains("5ecret"), "a password showed: {text}");
    });
}
