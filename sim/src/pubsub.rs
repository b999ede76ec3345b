//! The pub/sub workload: a `Subscriber` on one channel and a shared `Client`
//! publishing numbered messages to it, under the seed's faults; then the
//! faults stop and a message published after that must arrive. What the
//! subscriber received (messages and gap markers) goes to
//! [`pubsub_oracle`](crate::pubsub_oracle).
//!
//! **Slow consumers.** In one seed in 32 the consumer pauses after each
//! message and the publisher sends a burst well over the subscriber's
//! buffer ([`redwire::MESSAGE_BUFFER`]): the subscriber must stop reading
//! its socket once the buffer is full (the model's pipe then pushes back on
//! the server) and hold no more than the buffer and what one read brings,
//! counted after every message taken as the messages it has read whole off
//! its connections ([`World::messages_read`]) less those taken.

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
    /// A slow consumer's run: the most messages the subscriber had read
    /// and its consumer not yet taken, after any take, less what resets
    /// may have lost (see the module doc).
    pub slow: Option<Held>,
}

/// What a slow consumer saw the subscriber hold.
#[derive(Debug, Clone, Copy)]
pub struct Held {
    /// The most messages read off the socket and not yet taken.
    pub most: u64,
    /// Messages published in the burst.
    pub burst: usize,
    /// Gaps the consumer saw (each may have lost what one read brought).
    pub gaps: u64,
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
    // A slow consumer's knobs, from a generator of their own (the other
    // seeds' draws stay as they were).
    let mut slow_rng = fastrand::Rng::with_seed(seed ^ 0x5105_c0de_0001);
    let slow = (slow_rng.u8(..32) == 0).then(|| {
        let pause = Duration::from_micros(slow_rng.u64(500..=3000));
        let burst = redwire::MESSAGE_BUFFER * 2 + slow_rng.usize(0..=500);
        (pause, burst)
    });
    let held = Arc::new(Mutex::new((0u64, 0u64, 0u64)));
    let got = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let (got, world, held) = (got.clone(), world.clone(), held.clone());
        let mut deliveries = messages.with_gaps();
        let read_before = world.messages_read("subscriber");
        tokio::spawn(async move {
            let mut taken = 0u64;
            while let Some(delivery) = deliveries.recv().await {
                if let Some((pause, _)) = slow {
                    if matches!(delivery, Ok(Delivery::Message(_))) {
                        taken += 1;
                        let read = world.messages_read("subscriber") - read_before;
                        let mut h = held.lock().unwrap();
                        h.0 = h.0.max(read.saturating_sub(taken));
                    }
                    if matches!(delivery, Ok(Delivery::Disconnected { .. })) {
                        held.lock().unwrap().1 += 1;
                    }
                    tokio::time::sleep(pause).await;
                }
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
    let count = rng.usize(10..=60);
    for seq in 0..count {
        tokio::time::sleep(Duration::from_micros(rng.u64(0..=8000))).await;
        let r = publisher
            .send(&cmd("PUBLISH").arg(CHANNEL).arg(format!("m:{seq}")))
            .await;
        world.note(format!("publisher: m:{seq} -> {r:?}"));
    }
    if let Some((_, burst)) = slow {
        // As fast as the server takes them, many times what the
        // consumer keeps up with.
        let mut seq = count;
        while seq < count + burst {
            let mut batch = redwire::Pipeline::new();
            let first = seq;
            while seq < (first + 128).min(count + burst) {
                batch.add(cmd("PUBLISH").arg(CHANNEL).arg(format!("m:{seq}")));
                seq += 1;
            }
            if let Err(e) = publisher.pipeline(&batch).await {
                world.note(format!("publisher: m:{first}..m:{seq} -> {e}"));
            }
        }
        world.note(format!("publisher: burst of {burst} sent"));
    }
    chaos.abort();
    world.heal();

    // After the faults: a message published now arrives.
    // A slow consumer first works through the burst's backlog (each pause
    // ends on the timer's next millisecond).
    let backlog = slow.map_or(Duration::ZERO, |(pause, burst)| {
        (pause + Duration::from_millis(1)) * (count + burst) as u32
    });
    let bound = setting.reconnect_bound() + backlog;
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
    let (most, gaps, _) = *held.lock().unwrap();
    if slow.is_some() {
        world.note(format!(
            "subscriber: held at most {most} messages not yet taken"
        ));
    }
    PubSubRun {
        world,
        got,
        recovered,
        bound,
        slow: slow.map(|(_, burst)| Held { most, burst, gaps }),
    }
}
