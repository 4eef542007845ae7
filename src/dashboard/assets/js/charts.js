// The Charts view: small inline SVG charts over the last five minutes
// (or since the page was opened),
// sampled every 2 s whether the view is shown or not:
// - writes/s and reads/s from this page's member's `/v2/stats/store`
//   (every member counts every write as it applies it; reads only the
//   ones it served, the dashboard's own included);
// - proposals committed/s, the mean latency of the keys API's writes and
//   of the WAL's fsync, from the leader's `/metrics`.
// Rates come from differences of counters between two samples of the
// same source: after a leader change the first sample only sets a base.
import { request } from './api.js';
import { $, el, svg } from './dom.js';
import { parseMetrics, total } from './metrics.js';
import { cluster } from './cluster.js';

const PERIOD_MS = 2000;
const KEEP = 150; // five minutes
const MIN_SPAN = 30; // one minute

const SERIES = [
  { id: 'writes', title: 'writes/s', unit: '/s' },
  { id: 'reads', title: 'reads/s (this member)', unit: '/s' },
  { id: 'committed', title: 'proposals committed/s (leader)', unit: '/s' },
  { id: 'commit', title: 'write latency, mean ms (leader)', unit: ' ms' },
  { id: 'fsync', title: 'WAL fsync, mean ms (leader)', unit: ' ms' },
];

const WRITE_COUNTERS = [
  'setsSuccess', 'setsFail', 'deleteSuccess', 'deleteFail', 'updateSuccess', 'updateFail',
  'createSuccess', 'createFail', 'compareAndSwapSuccess', 'compareAndSwapFail',
  'compareAndDeleteSuccess', 'compareAndDeleteFail',
];
const WRITE_METHODS = new Set(['PUT', 'POST', 'DELETE']);

const history = Object.fromEntries(SERIES.map((s) => [s.id, []]));
let last = null; // {at, store, metrics, metricsFrom}

export function setupCharts() {
  const box = $('#charts');
  for (const s of SERIES) {
    box.append(el('div', { class: 'chart', 'data-chart': s.id },
      el('h3', {}, s.title, el('span', { id: `now-${s.id}`, text: '…' })),
      svg('svg', { id: `svg-${s.id}`, viewBox: '0 0 300 90', preserveAspectRatio: 'none', role: 'img', 'aria-label': s.title })));
  }
  (async () => {
    for (;;) {
      await sample().catch(() => {});
      draw();
      await new Promise((r) => setTimeout(r, PERIOD_MS));
    }
  })();
}

async function sample() {
  const at = performance.now();
  const from = cluster.leaderURL || '';
  const base = from && new URL(from).origin !== location.origin ? from : '';
  const [store, metrics] = await Promise.allSettled([
    request('/v2/stats/store', { timeout: 1500 }),
    request(base + '/metrics', { timeout: 1500 }),
  ]);
  const now = { at, metricsFrom: from, store: null, metrics: null };
  if (store.status === 'fulfilled' && store.value.json) {
    const s = store.value.json;
    now.store = {
      writes: WRITE_COUNTERS.reduce((sum, k) => sum + (s[k] || 0), 0),
      reads: (s.getsSuccess || 0) + (s.getsFail || 0),
    };
  }
  if (metrics.status === 'fulfilled' && metrics.value.ok) {
    const m = parseMetrics(metrics.value.text);
    const writes = (l) => WRITE_METHODS.has(l.method);
    now.metrics = {
      committed: total(m, 'etcd_server_proposals_committed_total'),
      commitSum: total(m, 'etcd_http_successful_duration_seconds_sum', writes),
      commitCount: total(m, 'etcd_http_successful_duration_seconds_count', writes),
      fsyncSum: total(m, 'etcd_wal_fsync_duration_seconds_sum'),
      fsyncCount: total(m, 'etcd_wal_fsync_duration_seconds_count'),
    };
  }
  if (last) {
    const dt = (at - last.at) / 1000;
    const rate = (a, b) => (a !== null && b !== null && a >= b && dt > 0 ? (a - b) / dt : null);
    const mean = (s1, s0, c1, c0) => (c1 !== null && c0 !== null && c1 > c0 ? ((s1 - s0) / (c1 - c0)) * 1000 : null);
    const st = now.store && last.store;
    push('writes', st ? rate(now.store.writes, last.store.writes) : null);
    push('reads', st ? rate(now.store.reads, last.store.reads) : null);
    const mt = now.metrics && last.metrics && now.metricsFrom === last.metricsFrom;
    push('committed', mt ? rate(now.metrics.committed, last.metrics.committed) : null);
    push('commit', mt ? mean(now.metrics.commitSum, last.metrics.commitSum, now.metrics.commitCount, last.metrics.commitCount) : null);
    push('fsync', mt ? mean(now.metrics.fsyncSum, last.metrics.fsyncSum, now.metrics.fsyncCount, last.metrics.fsyncCount) : null);
  }
  last = now;
}

function push(id, value) {
  const h = history[id];
  h.push(value);
  if (h.length > KEEP) h.shift();
}

function fmt(v) {
  if (v === null) return '–';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function ago(ms) {
  const s = Math.round(ms / 1000);
  return s >= 90 ? `${Math.round(s / 60)} min ago` : `${s} s ago`;
}

function draw() {
  for (const s of SERIES) {
    const h = history[s.id];
    const values = h.filter((v) => v !== null);
    const max = Math.max(1e-9, ...values) * 1.15;
    // The width spans what was sampled (at least a minute, at most five).
    const span = Math.min(KEEP, Math.max(MIN_SPAN, h.length));
    const x = (i) => (300 * (i + span - h.length)) / (span - 1);
    const y = (v) => 80 - (v / max) * 72;
    const parts = [svg('line', { class: 'axis', x1: 0, y1: 80, x2: 300, y2: 80 })];
    // One polyline per run of known values: unknown samples leave gaps.
    let run = [];
    const flush = () => {
      if (run.length === 1) {
        // A lone sample (a latency is known only where writes happened).
        const [i, v] = run[0];
        parts.push(svg('circle', { class: 'dot', cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2 }));
      } else if (run.length > 1) {
        const pts = run.map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
        const first = x(run[0][0]).toFixed(1);
        const lastX = x(run[run.length - 1][0]).toFixed(1);
        parts.push(svg('polygon', { class: 'area', points: `${first},80 ${pts} ${lastX},80` }));
        parts.push(svg('polyline', { class: 'line', points: pts }));
      }
      run = [];
    };
    h.forEach((v, i) => (v === null ? flush() : run.push([i, v])));
    flush();
    parts.push(svg('text', { x: 2, y: 10, text: `max ${fmt(values.length ? Math.max(...values) : null)}${s.unit}` }));
    parts.push(svg('text', { x: 2, y: 89, text: ago((span - 1) * PERIOD_MS) }));
    parts.push(svg('text', { x: 298, y: 89, 'text-anchor': 'end', text: 'now' }));
    $(`#svg-${s.id}`).replaceChildren(...parts);
    // The latest known value: a latency is unknown while nothing is written.
    const current = values.length ? values[values.length - 1] : null;
    $(`#now-${s.id}`).textContent = `${fmt(current)}${current === null ? '' : s.unit}`;
  }
}
