//! `/v2/stats/self` and `/v2/stats/leader`: counters kept by the state
//! thread and by the peer senders, rendered in 0.4.6's member order.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Map, Value, json};

use crate::store::UnixNanos;

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Rates are computed over the last few hundred events within the last second,
/// like 0.4.6's stats queue.
const RATE_WINDOW: usize = 200;

/// Packets and bytes over a sliding window, for `*PkgRate`/`*BandwidthRate`.
#[derive(Debug, Clone, Default)]
pub struct RateWindow {
    samples: VecDeque<(UnixNanos, u64)>,
}

impl RateWindow {
    pub fn record(&mut self, at: UnixNanos, bytes: u64) {
        if self.samples.len() == RATE_WINDOW {
            self.samples.pop_front();
        }
        self.samples.push_back((at, bytes));
    }

    /// (packets per second, bytes per second); zero when nothing moved in
    /// the last second.
    pub fn rates(&self, now: UnixNanos) -> (f64, f64) {
        let (Some(first), Some(last)) = (self.samples.front(), self.samples.back()) else {
            return (0.0, 0.0);
        };
        if now - last.0 > NANOS_PER_SEC {
            return (0.0, 0.0);
        }
        let span = ((now - first.0).max(1)) as f64 / NANOS_PER_SEC as f64;
        let bytes: u64 = self.samples.iter().map(|s| s.1).sum();
        (self.samples.len() as f64 / span, bytes as f64 / span)
    }
}

/// The bytes an append request carries, or None when `body` is not one.
/// Heartbeats count as empty appends, as in etcd 0.4 (goraft's heartbeat
/// is an AppendEntries request without entries), so a follower's
/// `recvAppendRequestCnt` also shows that the leader's heartbeats arrive.
pub fn append_request_bytes(body: &crate::raft::MessageBody) -> Option<u64> {
    match body {
        crate::raft::MessageBody::Append { entries, .. } => {
            Some(entries.iter().map(|e| e.data.len() as u64 + 24).sum())
        }
        crate::raft::MessageBody::Heartbeat { .. } => Some(0),
        _ => None,
    }
}

/// This machine's view of itself.
#[derive(Debug, Clone, Default)]
pub struct SelfStats {
    pub name: String,
    /// "leader", "follower" or "" (a candidate).
    pub state: String,
    pub start_time: UnixNanos,
    pub leader_name: String,
    /// When this machine first saw the current leader (or became it).
    pub leader_since: UnixNanos,
    pub recv_append_cnt: u64,
    pub send_append_cnt: u64,
    pub recv: RateWindow,
    pub send: RateWindow,
}

impl SelfStats {
    pub fn to_json(&self, now: UnixNanos) -> String {
        let mut obj = Map::new();
        obj.insert("name".into(), json!(self.name));
        obj.insert("state".into(), json!(self.state));
        obj.insert("startTime".into(), json!(rfc3339(self.start_time)));
        obj.insert(
            "leaderInfo".into(),
            json!({
                "leader": self.leader_name,
                "uptime": go_duration(now - self.leader_since),
                "startTime": rfc3339(self.leader_since),
            }),
        );
        obj.insert("recvAppendRequestCnt".into(), json!(self.recv_append_cnt));
        let (recv_pkg, recv_bw) = self.recv.rates(now);
        if recv_pkg > 0.0 {
            obj.insert("recvPkgRate".into(), json!(recv_pkg));
            obj.insert("recvBandwidthRate".into(), json!(recv_bw));
        }
        obj.insert("sendAppendRequestCnt".into(), json!(self.send_append_cnt));
        let (send_pkg, send_bw) = self.send.rates(now);
        if send_pkg > 0.0 {
            obj.insert("sendPkgRate".into(), json!(send_pkg));
            obj.insert("sendBandwidthRate".into(), json!(send_bw));
        }
        Value::Object(obj).to_string()
    }
}

/// Latency and outcome counts of the appends sent to one follower.
#[derive(Debug, Clone)]
pub struct FollowerStats {
    pub current_ms: f64,
    pub count: u64,
    pub sum_ms: f64,
    pub sum_sq_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub fail: u64,
    pub success: u64,
    /// When a message last reached this follower (any kind, heartbeats too).
    pub last_reached: Option<std::time::Instant>,
    /// When its sender started (at the latest address).
    pub tracked_since: Option<std::time::Instant>,
}

impl Default for FollowerStats {
    fn default() -> Self {
        FollowerStats {
            current_ms: 0.0,
            count: 0,
            sum_ms: 0.0,
            sum_sq_ms: 0.0,
            // 0.4.6 prints 2^63 for a follower never reached.
            min_ms: 9.223_372_036_854_776e18,
            max_ms: 0.0,
            fail: 0,
            success: 0,
            last_reached: None,
            tracked_since: None,
        }
    }
}

impl FollowerStats {
    pub fn succeeded(&mut self, latency_ms: f64) {
        self.success += 1;
        self.count += 1;
        self.current_ms = latency_ms;
        self.sum_ms += latency_ms;
        self.sum_sq_ms += latency_ms * latency_ms;
        self.min_ms = self.min_ms.min(latency_ms);
        self.max_ms = self.max_ms.max(latency_ms);
    }

    pub fn failed(&mut self) {
        self.fail += 1;
    }

    fn to_value(&self) -> Value {
        let n = self.count.max(1) as f64;
        let average = if self.count == 0 {
            0.0
        } else {
            self.sum_ms / n
        };
        let variance = if self.count == 0 {
            0.0
        } else {
            (self.sum_sq_ms / n - average * average).max(0.0)
        };
        json!({
            "latency": {
                "current": self.current_ms,
                "average": average,
                "standardDeviation": variance.sqrt(),
                "minimum": self.min_ms,
                "maximum": self.max_ms,
            },
            "counts": { "fail": self.fail, "success": self.success },
        })
    }
}

/// The leader's view of its followers, keyed by member name.
#[derive(Debug, Clone, Default)]
pub struct LeaderStats {
    pub leader: String,
    pub followers: BTreeMap<String, FollowerStats>,
}

impl LeaderStats {
    pub fn to_json(&self) -> String {
        let followers: Map<String, Value> = self
            .followers
            .iter()
            .map(|(name, f)| (name.clone(), f.to_value()))
            .collect();
        json!({ "leader": self.leader, "followers": followers }).to_string()
    }
}

/// RFC 3339 in UTC with nanoseconds, as etcd prints times.
pub fn rfc3339(nanos: UnixNanos) -> String {
    crate::store::format_rfc3339(nanos)
}

/// A duration the way Go prints one (`7.592376s`, `1m18.5s`, `2h0m1s`).
pub fn go_duration(nanos: i64) -> String {
    let nanos = nanos.max(0);
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < NANOS_PER_SEC {
        let (value, unit) = if nanos < 1_000 {
            return format!("{nanos}ns");
        } else if nanos < 1_000_000 {
            (nanos as f64 / 1e3, "µs")
        } else {
            (nanos as f64 / 1e6, "ms")
        };
        return format!("{}{unit}", trim_float(value));
    }
    let secs_total = nanos / NANOS_PER_SEC;
    let frac = nanos % NANOS_PER_SEC;
    let hours = secs_total / 3600;
    let minutes = (secs_total % 3600) / 60;
    let secs = secs_total % 60;
    let mut seconds = format!("{secs}");
    if frac > 0 {
        let digits = format!("{frac:09}");
        seconds.push('.');
        seconds.push_str(digits.trim_end_matches('0'));
    }
    if hours > 0 {
        format!("{hours}h{minutes}m{seconds}s")
    } else if minutes > 0 {
        format!("{minutes}m{seconds}s")
    } else {
        format!("{seconds}s")
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_count_as_empty_append_requests_and_answers_do_not() {
        use crate::raft::{Entry, EntryKind, MessageBody};
        let entry = Entry {
            term: 1,
            index: 1,
            kind: EntryKind::Normal,
            data: b"abcd".to_vec(),
        };
        let append = MessageBody::Append {
            prev_index: 0,
            prev_term: 0,
            entries: vec![entry],
            commit: 0,
        };
        assert_eq!(append_request_bytes(&append), Some(28));
        let heartbeat = MessageBody::Heartbeat { commit: 1, ctx: 0 };
        assert_eq!(append_request_bytes(&heartbeat), Some(0));
        let answer = MessageBody::HeartbeatResponse { ctx: 0 };
        assert_eq!(append_request_bytes(&answer), None);
    }

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration(7_592_376_000), "7.592376s");
        assert_eq!(go_duration(78_544_996_775), "1m18.544996775s");
        assert_eq!(go_duration(7_201_000_000_000), "2h0m1s");
        assert_eq!(go_duration(1_500_000), "1.5ms");
        assert_eq!(go_duration(0), "0s");
    }

    #[test]
    fn self_stats_member_order_and_rate_omission() {
        let s = SelfStats {
            name: "m1".into(),
            state: "leader".into(),
            ..SelfStats::default()
        };
        let out = s.to_json(1_000);
        let keys: Vec<&str> = [
            "name",
            "state",
            "startTime",
            "leaderInfo",
            "recvAppendRequestCnt",
            "sendAppendRequestCnt",
        ]
        .into_iter()
        .collect();
        let mut last = 0;
        for k in keys {
            let at = out.find(&format!("\"{k}\"")).expect("member present");
            assert!(at >= last, "{k} out of order in {out}");
            last = at;
        }
        assert!(!out.contains("PkgRate"));
    }

    #[test]
    fn an_unreached_follower_has_the_huge_minimum() {
        let mut l = LeaderStats {
            leader: "m1".into(),
            ..LeaderStats::default()
        };
        l.followers.insert("m2".into(), FollowerStats::default());
        let v: Value = serde_json::from_str(&l.to_json()).expect("json");
        assert_eq!(
            v["followers"]["m2"]["latency"]["minimum"],
            json!(9.223372036854776e18)
        );
    }

    #[test]
    fn follower_latency_summary() {
        let mut f = FollowerStats::default();
        f.succeeded(1.0);
        f.succeeded(3.0);
        let v = f.to_value();
        assert_eq!(v["latency"]["average"], json!(2.0));
        assert_eq!(v["latency"]["standardDeviation"], json!(1.0));
        assert_eq!(v["latency"]["minimum"], json!(1.0));
        assert_eq!(v["counts"]["success"], json!(2));
    }
}
