//! The state thread's watches: registering one with the store (a stream
//! replays its history first) and handing the store's notifications to the
//! HTTP threads waiting on them, never blocking on a slow client.

use crossbeam_channel::Sender;

use crate::store::WatchOutcome;

use super::super::requests::WatchMessage;
use super::StateThread;

pub(super) struct Watcher {
    events: Sender<WatchMessage>,
    stream: bool,
}

impl StateThread {
    pub(super) fn start_watch(
        &mut self,
        key: crate::store::KeyPath,
        recursive: bool,
        stream: bool,
        since: Option<u64>,
        events: Sender<WatchMessage>,
    ) {
        crate::metrics::global().watch_requests.inc();
        let mut since = since;
        // A stream replays its history first; `Started` must carry the id
        // it waits under afterwards (the HTTP side cancels by that id), so
        // the replayed events are sent after it.
        let mut replay = Vec::new();
        loop {
            match self.store.watch(&key, recursive, stream, since) {
                Ok(WatchOutcome::Ready(event)) => {
                    since = Some(event.index + 1);
                    replay.push(event);
                    if !stream {
                        break;
                    }
                }
                Ok(WatchOutcome::Waiting(id)) => {
                    let started = WatchMessage::Started {
                        id,
                        at: self.position(),
                    };
                    let delivered = std::iter::once(started)
                        .chain(replay.into_iter().map(WatchMessage::Event))
                        .all(|m| events.try_send(m).is_ok());
                    if delivered {
                        self.watchers.insert(id, Watcher { events, stream });
                    } else {
                        self.store.cancel_watch(id);
                    }
                    return;
                }
                Err(e) if replay.is_empty() => {
                    let _ = events.try_send(WatchMessage::Failed(e));
                    return;
                }
                // Replayed events stand; dropping the channel ends the watch.
                Err(_) => break,
            }
        }
        // Answered from history alone (a one-shot watch): nothing waits.
        let started = WatchMessage::Started {
            id: 0,
            at: self.position(),
        };
        for m in std::iter::once(started).chain(replay.into_iter().map(WatchMessage::Event)) {
            // Never blocks: one-shot channels hold exactly these two.
            if events.try_send(m).is_err() {
                return;
            }
        }
    }

    pub(super) fn deliver_watch_events(&mut self) {
        for (id, event) in self.store.take_notifications() {
            let Some(w) = self.watchers.get(&id) else {
                continue;
            };
            // `try_send`: the state thread never blocks on a client (a
            // one-shot watch's channel has room for its one event).
            let delivered = w.events.try_send(WatchMessage::Event(event)).is_ok();
            if !w.stream || !delivered {
                self.watchers.remove(&id);
                if !delivered {
                    self.store.cancel_watch(id);
                }
            }
        }
    }
}
