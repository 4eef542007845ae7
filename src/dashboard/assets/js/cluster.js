// The Cluster view, and what the other views need to know of the cluster
// (where the leader is, to send writes there).
//
// Every 1.5 s: the member list (`/v2/members`), the leader
// (`/v2/members/leader`), and the term and indices (the headers of a read
// of `/_etcd/machines`) from this page's own member; then each member's
// `/health` and `/v2/stats/self`, asked directly (each member allows the
// others' origins in CORS), and the leader's `/v2/stats/leader`. A member
// that does not answer within 2 s is shown unhealthy.
import { request, ApiError } from './api.js';
import { $, el, safeHref, banner } from './dom.js';

const PERIOD_MS = 1500;
const PROBE_TIMEOUT_MS = 2000;

export const cluster = {
  members: [],        // [{name, clientURL, peerURL}]
  leader: null,       // name, or null during an election
  leaderURL: null,    // its client URL
  term: null, etcdIndex: null, raftIndex: null,
  self: null,         // this page's member's name
  probes: new Map(),  // name → {healthy, says, error}
  followers: {},      // from the leader's /v2/stats/leader
  reachable: true,    // whether this page's own member answers
};

const listeners = [];
export function onClusterChange(fn) {
  listeners.push(fn);
}

// Where writes go: the leader's client URL, or this page's member when no
// leader is known (it then answers with an error the page shows).
export function writeBase() {
  if (!cluster.leaderURL || sameOrigin(cluster.leaderURL)) return '';
  return cluster.leaderURL;
}

function sameOrigin(url) {
  try {
    return new URL(url).origin === location.origin;
  } catch (e) {
    return false;
  }
}

// Resolves after a fresh look (the writers call it when the leader moved).
let running = null;
export function refresh() {
  if (!running) running = look().finally(() => { running = null; });
  return running;
}

export async function start() {
  for (;;) {
    await refresh();
    await new Promise((r) => setTimeout(r, PERIOD_MS));
  }
}

async function look() {
  const [members, leader, machines, self] = await Promise.allSettled([
    request('/v2/members'),
    request('/v2/members/leader'),
    request('/v2/keys/_etcd/machines'),
    request('/v2/stats/self'),
  ]);
  cluster.reachable = members.status === 'fulfilled';
  if (members.status === 'fulfilled' && members.value.ok && members.value.json) {
    cluster.members = (members.value.json.members || []).map((m) => ({
      name: m.name,
      clientURL: (m.clientURLs || [])[0] || '',
      peerURL: (m.peerURLs || [])[0] || '',
    }));
  }
  if (leader.status === 'fulfilled') {
    const l = leader.value.ok ? leader.value.json : null;
    cluster.leader = l ? l.name : null;
    cluster.leaderURL = l ? (l.clientURLs || [])[0] : null;
  } else {
    cluster.leader = null;
    cluster.leaderURL = null;
  }
  // A user who may not read /_etcd/machines gets a 401 (index 0): keep
  // what was known.
  if (machines.status === 'fulfilled' && machines.value.ok) {
    const h = machines.value.headers;
    cluster.term = h.get('X-Raft-Term') ?? cluster.term;
    cluster.etcdIndex = h.get('X-Etcd-Index') ?? cluster.etcdIndex;
    cluster.raftIndex = h.get('X-Raft-Index') ?? cluster.raftIndex;
  }
  if (self.status === 'fulfilled' && self.value.json) cluster.self = self.value.json.name;

  await Promise.all([...cluster.members.map(probe), leaderStats()]);
  render();
  for (const fn of listeners) fn(cluster);
}

async function probe(member) {
  const base = sameOrigin(member.clientURL) ? '' : member.clientURL;
  const [health, self] = await Promise.allSettled([
    request(base + '/health', { timeout: PROBE_TIMEOUT_MS }),
    request(base + '/v2/stats/self', { timeout: PROBE_TIMEOUT_MS }),
  ]);
  const p = { healthy: false, health: 'no answer', says: '' };
  if (health.status === 'fulfilled') {
    const h = health.value;
    p.healthy = h.status === 200 && !!h.json && h.json.health === 'true';
    p.health = p.healthy ? 'healthy' : `unhealthy (${h.status})`;
  } else if (health.reason instanceof ApiError && health.reason.kind === 'timeout') {
    p.health = 'no answer in 2 s';
  }
  if (self.status === 'fulfilled' && self.value.json) {
    const s = self.value.json;
    const follows = s.leaderInfo && s.leaderInfo.leader;
    p.says = s.state === 'leader' ? 'leader' : follows ? `follows ${follows}` : s.state || 'no leader';
  }
  cluster.probes.set(member.name, p);
}

async function leaderStats() {
  if (!cluster.leaderURL) {
    cluster.followers = {};
    return;
  }
  const base = sameOrigin(cluster.leaderURL) ? '' : cluster.leaderURL;
  try {
    const r = await request(base + '/v2/stats/leader', { timeout: PROBE_TIMEOUT_MS });
    cluster.followers = (r.ok && r.json && r.json.followers) || {};
  } catch (e) {
    cluster.followers = {};
  }
}

function ms(x) {
  // A follower never reached has a minimum of 2^63.
  return typeof x === 'number' && x < 1e12 ? x.toFixed(2) : '–';
}

function render() {
  $('#leader-name').textContent = cluster.leader || 'election in progress';
  $('#term').textContent = cluster.term ?? '…';
  $('#store-index').textContent = cluster.etcdIndex ?? '…';
  $('#raft-index').textContent = cluster.raftIndex ?? '…';
  $('#cluster-updated').textContent = `updated ${new Date().toLocaleTimeString()}`;

  const mine = cluster.members.some((m) => sameOrigin(m.clientURL));
  if (!cluster.reachable) {
    banner(`${location.host} does not answer: the figures below are the last ones seen.`, 'error');
  } else if (cluster.members.length && !mine) {
    const own = cluster.members.find((m) => m.name === cluster.self);
    banner(
      `This page was opened as ${location.origin}, which is not a member's advertised client URL` +
        (own ? ` (${own.clientURL})` : '') +
        ': browsers let it ask the other members only from those URLs, so their health may show false and writes may fail.',
    );
  } else {
    banner('');
  }

  const rows = cluster.members.map((m) => {
    const p = cluster.probes.get(m.name) || { healthy: false, health: '…', says: '' };
    const role = m.name === cluster.leader ? 'leader' : 'follower';
    const f = cluster.followers[m.name];
    const href = safeHref(m.clientURL);
    return el('tr', { 'data-test': 'member', 'data-name': m.name, 'data-role': role, 'data-healthy': String(p.healthy) },
      el('td', {},
        href ? el('a', { href: href + '/mod/dashboard/', text: m.name }) : m.name,
        m.name === cluster.self ? el('span', { class: 'mine', text: ' (this page)' }) : null),
      el('td', {}, el('span', { class: `badge ${role}`, text: role })),
      el('td', { class: 'health', text: p.health }),
      el('td', { text: m.clientURL }),
      el('td', { text: m.peerURL }),
      el('td', { class: 'num', text: f && f.counts.success > 0 ? `${ms(f.latency.current)} / ${ms(f.latency.average)}` : '–' }),
      el('td', { class: 'num', text: f ? `${f.counts.fail} / ${f.counts.success}` : '–' }),
      el('td', { text: p.says }));
  });
  $('#members').replaceChildren(...rows);
}
