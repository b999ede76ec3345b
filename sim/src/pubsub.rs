//! The pub/sub workload: a `Subscriber` on one channel and a shared `Client`
//! publishing numbered messages to it, under the seed's faults; then the
//! faults stop and a message published after that must arrive. What the
//! subscriber received (messages and gap markers) goes to
//! [`pubsub_oracle`](crate::pubsub_oracle).

use crate::setting::Setting;
use crate::world::World;
use bytes::Bytes;
use redwire::{cmd, Client, Delivery, Subscriber};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// The one channel.
pub const CHANNEL: &str = "news";

/// What the subscriber's stream yielded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    /// A message: its channel and payload.
    Message(Bytes, Bytes),
    /// The connection dropped: messages may be missing from here.
    Disconnected,
    /// Subscribed again.
    Resubscribed,
}

/// What one run hands the oracle.
pub struct PubSubRun {
    /// The world at the end.
    pub world: World,
    /// What the subscriber received after its subscribe was confirmed.
    pub got: Vec<Got>,
    /// Whether a message published after the faults stopped arrived in time.
    pub recovered: bool,
    /// The time it had.
    pub bound: Duration,
}

/// Runs the pub/sub workload for `seed` (inside a paused runtime).
pub async fn pubsub(seed: u64) -> PubSubRun {
    let mut rng = fastrand::Rng::with_seed(seed);
    let setting = Setting::draw(seed, &mut rng);
    let world = setting.world.clone();
    // Subscribed first, before any fault: the promise starts there.
    let (subscriber, messages) = loop {
        match Subscriber::connect(setting.config("subscriber")).await {
            Ok(pair) => break pair,
            Err(e) => world.note(format!("subscriber: connect failed: {e}")),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    while let Err(e) = subscriber.subscribe(CHANNEL).await {
        world.note(format!("subscriber: subscribe failed: {e}"));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    world.note("subscriber: subscribed");
    let got = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let (got, world) = (got.clone(), world.clone());
        let mut deliveries = messages.with_gaps();
        tokio::spawn(async move {
            while let Some(delivery) = deliveries.recv().await {
                let item = match delivery {
                    Ok(Delivery::Message(m)) => Got::Message(m.channel, m.payload),
                    Ok(Delivery::Disconnected { .. }) => Got::Disconnected,
                    Ok(Delivery::Resubscribed) => Got::Resubscribed,
                    Ok(other) => {
                        world.note(format!("subscriber: unexpected {other:?}"));
                        continue;
                    }
                    Err(e) => {
                        world.note(format!("subscriber: error {e}"));
                        continue;
                    }
                };
                world.note(format!("subscriber: got {item:?}"));
                got.lock().unwrap().push(item);
            }
            world.note("subscriber: stream ended");
        })
    };
    let chaos = tokio::spawn(world.clone().chaos(setting.faults.clone()));
    let publisher = Client::new(setting.config("publisher"));
    for seq in 0..rng.usize(10..=60) {
        tokio::time::sleep(Duration::from_micros(rng.u64(0..=8000))).await;
        let r = publisher
            .send(&cmd("PUBLISH").arg(CHANNEL).arg(format!("m:{seq}")))
            .await;
        world.note(format!("publisher: m:{seq} -> {r:?}"));
    }
    chaos.abort();
    world.heal();

    // After the faults: a message published now arrives.
    let bound = setting.reconnect_bound();
    let healed = Instant::now();
    let mut recovered = false;
    let mut attempt = 0;
    while !recovered && healed.elapsed() <= bound {
        let payload = format!("final:{attempt}");
        attempt += 1;
        let _ = publisher
            .send(&cmd("PUBLISH").arg(CHANNEL).arg(&payload))
            .await;
        let waited = Instant::now();
        while waited.elapsed() < Duration::from_millis(50) && !recovered {
            tokio::time::sleep(Duration::from_millis(5)).await;
            recovered = got
                .lock()
                .unwrap()
                .iter()
                .any(|g| matches!(g, Got::Message(_, p) if p.starts_with(b"final:")));
        }
    }
    world.note(format!(
        "subscriber: recovered={recovered} (bound {bound:?})"
    ));
    reader.abort();
    drop(subscriber);
    let got = std::mem::take(&mut *got.lock().unwrap());
    PubSubRun {
        world,
        got,
        recovered,
        bound,
    }
}
