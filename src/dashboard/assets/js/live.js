// The Live view: a recursive watch on a prefix, read from this page's
// member, listing each event as it happens.
//
// It starts at the store index + 1 of a read of the prefix, and after each
// event asks for `waitIndex` = that event's index + 1, so a reconnect
// (member restarting, network gone) resumes exactly where it stopped:
// nothing is lost while the missed events are within etcd's 1 000-event
// history. When some are not (errorCode 401), the lost range is shown and
// the watch goes on from the oldest event etcd still keeps.
import { request, dirPath, cleanKey, describe, ApiError } from './api.js';
import { $, el, clip, sleep } from './dom.js';

// Rows kept on screen (a gap of more than 1000 events stays visible).
const MAX_ROWS = 2000;
// Rows reach the table at most this often: a render per event would make
// catching up on the history as slow as painting a long table.
const FLUSH_MS = 250;
// A long poll is re-issued this often, so a connection that died silently
// is noticed; waitIndex makes that free.
const POLL_MS = 60000;

let session = null; // {prefix, stop: AbortController}

export function setupLive() {
  $('#watch-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (session) stopWatch();
    else startWatch(cleanKey($('#watch-prefix').value));
  });
}

function state(text) {
  $('#watch-state').textContent = text;
}

function stopWatch() {
  session.stop.abort();
  session = null;
  $('#watch-start').textContent = 'Watch';
  state('stopped');
}

async function startWatch(prefix) {
  const mine = { prefix, stop: new AbortController() };
  session = mine;
  $('#watch-start').textContent = 'Stop';
  const alive = () => session === mine;
  let next = null;
  let backoff = 500;
  while (alive()) {
    try {
      if (next === null) next = (await currentIndex(prefix, mine.stop.signal)) + 1;
      state(`watching ${prefix} from index ${next}`);
      const ctl = new AbortController();
      const abort = () => ctl.abort();
      mine.stop.signal.addEventListener('abort', abort, { once: true });
      const timer = setTimeout(abort, POLL_MS);
      let r;
      try {
        r = await request(`${dirPath(prefix)}?wait=true&recursive=true&waitIndex=${next}`, { timeout: 0, signal: ctl.signal });
      } catch (e) {
        if (e instanceof ApiError && e.kind === 'aborted' && alive()) continue; // the periodic re-issue
        throw e;
      } finally {
        clearTimeout(timer);
        mine.stop.signal.removeEventListener('abort', abort);
      }
      if (!alive()) return;
      backoff = 500;
      const j = r.json;
      if (r.ok && j && j.node) {
        const index = j.node.modifiedIndex;
        show(j);
        next = index + 1;
      } else if (j && j.errorCode === 401) {
        // Cause: "the requested history has been cleared [oldest/asked]".
        const m = /\[(\d+)\/(\d+)\]/.exec(j.cause || '');
        // Only the events before the oldest kept one are lost: go on from
        // it (or from now, if the cause cannot be read).
        const oldest = m ? Number(m[1]) : null;
        const from = oldest !== null && oldest > next ? oldest : j.index + 1;
        gap(next, from);
        next = from;
      } else {
        throw new Error(r.status === 401 ? `${prefix}: ${describe(r)}` : j && j.message ? j.message : `HTTP ${r.status}`);
      }
    } catch (e) {
      if (!alive()) return;
      state(`${e.message}; reconnecting, resuming from index ${next ?? 'now'}`);
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 5000);
    }
  }
}

// The store index now, from a read of the prefix (a missing prefix
// answers an error that carries it too).
async function currentIndex(prefix, signal) {
  const r = await request(dirPath(prefix), { signal });
  const header = r.headers.get('X-Etcd-Index');
  if (header !== null) return Number(header);
  if (r.json && typeof r.json.index === 'number') return r.json.index;
  throw new Error(`no index in the answer (HTTP ${r.status})`);
}

function show(event) {
  const node = event.node;
  const prev = event.prevNode;
  let value = node.value ?? '';
  if (node.value === undefined && prev && prev.value !== undefined) value = `(was: ${prev.value})`;
  if (node.dir) value = '(directory)';
  add(el('tr', {
    'data-test': 'event', 'data-action': event.action, 'data-key': node.key,
    'data-index': String(node.modifiedIndex), class: burst() ? null : 'fresh',
  },
  el('td', { class: 'num', text: clock() }),
  el('td', { text: event.action }),
  el('td', { text: node.key }),
  el('td', { class: 'value', text: clip(value, 200) }),
  el('td', { class: 'num', text: node.modifiedIndex })));
}

function gap(asked, from) {
  add(el('tr', { 'data-test': 'event-gap', class: 'gap', 'data-from': String(asked), 'data-to': String(from - 1) },
    el('td', { class: 'num', text: clock() }),
    el('td', { colspan: '4', text: `Events ${asked} to ${from - 1} fell out of etcd's 1000-event history before this page could read them: any of them under the prefix are missed. Going on from index ${from}.` })));
}

// While catching up (history replayed at hundreds of events a second),
// rows are not highlighted: repainting them would slow the catching up.
let recent = [];
function burst() {
  const now = performance.now();
  recent = recent.filter((t) => now - t < 1000);
  recent.push(now);
  return recent.length > 5;
}

let queued = [];
let flushTimer = null;
let lastFlush = 0;

function add(row) {
  queued.push(row);
  if (flushTimer === null) {
    // A lone event shows at once; a burst waits for the next flush.
    flushTimer = setTimeout(flush, Math.max(0, lastFlush + FLUSH_MS - performance.now()));
  }
}

function flush() {
  flushTimer = null;
  lastFlush = performance.now();
  const body = $('#events');
  body.prepend(...queued.reverse());
  queued = [];
  while (body.children.length > MAX_ROWS) body.lastElementChild.remove();
}

function clock() {
  return new Date().toLocaleTimeString([], { hour12: false });
}
