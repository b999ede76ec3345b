//! What a request costs in allocations, counted by this test binary's global
//! allocator: the budget of the performance rules (DESIGN.md) and of the hot
//! path, kept from regressing. One request at a time from one task is the
//! hard case: every reply is read on its own, and the caller still holds the
//! previous reply while the next one is read.
//!
//! Only the allocations of the test's own thread count (the runtime is
//! current_thread, so the caller and the connection's actor both run there).

use redwire::prelude::*;
use redwire::{cmd, Client};
use redwire_testkit::RedisServer;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

mod support;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

fn count(size: usize) {
    let _ = ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
    let _ = BYTES.try_with(|b| b.set(b.get() + size as u64));
}

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn allocated() -> (u64, u64) {
    (ALLOCATIONS.with(Cell::get), BYTES.with(Cell::get))
}

const REQUESTS: u64 = 1_000;

/// Allocations and bytes allocated per request of `request`, after a warm-up.
async fn per_request<F: std::future::Future<Output = ()>>(
    mut request: impl FnMut() -> F,
) -> (f64, f64) {
    for _ in 0..200 {
        request().await;
    }
    let (a0, b0) = allocated();
    for _ in 0..REQUESTS {
        request().await;
    }
    let (a1, b1) = allocated();
    (
        (a1 - a0) as f64 / REQUESTS as f64,
        (b1 - b0) as f64 / REQUESTS as f64,
    )
}

/// Runs `test` with a client of a fresh server (and the server's URL), on a
/// current-thread runtime: the caller and the connection's actor allocate
/// on this thread, where the counts are kept.
fn on_a_server<F: std::future::Future<Output = ()>>(test: impl FnOnce(Client, String) -> F) {
    let server = RedisServer::start().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = Client::connect(support::config(&server.url()))
            .await
            .unwrap();
        test(client, server.url()).await;
    });
}

/// The ways a command reaches the server in the large-value tests.
#[derive(Clone, Copy, Debug)]
enum Path {
    /// `client.send(&cmd)`.
    Reference,
    /// `(&client).command(cmd)`, as the typed methods do.
    Value,
    /// One entry of a pipeline.
    Pipeline,
    /// One entry of a transaction.
    Transaction,
}

/// Bytes allocated per SET of the command `make` builds per request, sent
/// along `path`.
async fn bytes_per_set(client: &Client, path: Path, make: impl Fn() -> redwire::Cmd) -> f64 {
    let (_, bytes) = per_request(|| async {
        let ok = match path {
            Path::Reference => client.send(&make()).await.unwrap(),
            Path::Value => client.command(make()).await.unwrap(),
            Path::Pipeline | Path::Transaction => {
                let mut p = redwire::Pipeline::new();
                if matches!(path, Path::Transaction) {
                    p.atomic();
                }
                p.add(make());
                client.pipeline(&p).await.unwrap().remove(0).unwrap()
            }
        };
        assert!(ok.is_ok(), "{path:?}: {ok:?}");
    })
    .await;
    bytes
}

#[test]
fn a_request_allocates_nothing_once_warm() {
    on_a_server(|client, _url| async move {
        client.set("k", "0123456789abcdef").await.unwrap();

        // `cmd()` per request, sent by reference: nothing. (The command's
        // buffer is a spare of an earlier command, its bytes travel inline,
        // the read buffer is reused, and so is the reply slot: see `cmd.rs`
        // and `connection/slot.rs`.)
        let (allocs, bytes) = per_request(|| async {
            let v: Option<bytes::Bytes> = client.query(&cmd("GET").arg("k")).await.unwrap();
            assert_eq!(v.as_deref(), Some(&b"0123456789abcdef"[..]));
        })
        .await;
        assert!(allocs <= 0.05, "{allocs} allocations per request");
        assert!(bytes <= 300.0, "{bytes} bytes allocated per request");

        // The typed method hands its command over by value: the same.
        let (allocs, _) = per_request(|| async {
            let v: Option<bytes::Bytes> = client.get("k").await.unwrap();
            assert!(v.is_some());
        })
        .await;
        assert!(allocs <= 0.05, "typed: {allocs} allocations per request");

        // A command built once and sent again and again: nothing.
        let prebuilt = cmd("GET").arg("k");
        let (allocs, bytes) = per_request(|| async {
            let v: Option<bytes::Bytes> = client.query(&prebuilt).await.unwrap();
            assert!(v.is_some());
        })
        .await;
        assert!(allocs <= 0.05, "prebuilt: {allocs} allocations per request");
        assert!(
            bytes <= 200.0,
            "prebuilt: {bytes} bytes allocated per request"
        );

        // A large command handed over by value (`Commands::command`, as the
        // typed methods do) is written from its own buffer: its value is
        // copied once, into the command, so about its size is allocated per
        // request, not twice its size.
        const LARGE: usize = 256 * 1024;
        let value = vec![b'v'; LARGE];
        let bytes = bytes_per_set(&client, Path::Value, || cmd("SET").arg("big").arg(&value)).await;
        assert!(
            bytes < 1.5 * LARGE as f64,
            "{bytes} bytes allocated per SET of {LARGE} bytes"
        );
    });
}

/// A large value is copied once in the client (into the command, or not at
/// all when it is a `Bytes`), on every path: by value, by reference, in a
/// pipeline or a transaction, on a dedicated connection. Two copies would
/// show as about twice the value's size allocated per request.
#[test]
fn a_large_value_is_copied_at_most_once_on_every_path() {
    const LARGE: usize = 256 * 1024;
    on_a_server(|client, url| async move {
        let value = vec![b'v'; LARGE];
        let once = |path: &str, bytes: f64| {
            assert!(
                bytes < 1.5 * LARGE as f64,
                "{path}: {bytes} bytes allocated per SET of {LARGE} bytes"
            );
            assert!(
                bytes > 0.9 * LARGE as f64,
                "{path}: {bytes} bytes allocated per SET, less than the value's copy"
            );
        };

        // Built per request from a slice: the command copies the value into
        // a buffer of its own, which the request (or the pipeline) shares.
        for path in [Path::Reference, Path::Pipeline, Path::Transaction] {
            let set = || cmd("SET").arg("big").arg(&value[..]);
            once(
                &format!("{path:?}"),
                bytes_per_set(&client, path, set).await,
            );
        }

        // A dedicated connection, by reference (a loop of its own: the
        // request borrows the connection mutably).
        let mut conn = redwire::Connection::connect(support::config(&url))
            .await
            .unwrap();
        let mut bytes = 0;
        for i in 0..200 + REQUESTS {
            if i == 200 {
                bytes = allocated().1;
            }
            let ok = conn
                .send(&cmd("SET").arg("big").arg(&value[..]))
                .await
                .unwrap();
            assert!(ok.is_ok());
        }
        once(
            "dedicated",
            (allocated().1 - bytes) as f64 / REQUESTS as f64,
        );
        drop(conn);

        // A `Bytes` value is not copied at all: by reference, by value, in
        // a pipeline.
        let shared = bytes::Bytes::from(value.clone());
        let none = |path: &str, bytes: f64| {
            assert!(
                bytes < 2048.0,
                "{path}: {bytes} bytes allocated per SET of a shared {LARGE} bytes"
            );
        };
        for path in [Path::Reference, Path::Value, Path::Pipeline] {
            let set = || cmd("SET").arg("big").arg(&shared);
            none(
                &format!("Bytes, {path:?}"),
                bytes_per_set(&client, path, set).await,
            );
        }
        let (_, bytes) = per_request(|| async {
            client.set("big", &shared).await.unwrap();
        })
        .await;
        none("Bytes, typed", bytes);

        let back: bytes::Bytes = client.get("big").await.unwrap();
        assert!(back == shared);
    });
}
