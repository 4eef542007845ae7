// The Keys view: the tree browsed one directory at a time (read from this
// page's member, `sorted=true`), each key's value, TTL counting down and
// indices, and an editor that writes through the leader:
// - a key loaded from the list is saved as a compare-and-swap on the
//   `modifiedIndex` that was shown (`prevIndex=`), so a change made
//   meanwhile by anyone is reported, never overwritten;
// - a key typed in is created (`prevExist=false`): an existing one is
//   reported, not replaced;
// - delete is a compare-and-delete on the shown index (a directory: after
//   a second click, with everything below it).
// Because every write is conditional, retrying one after the leader moved
// cannot overwrite anything: at worst it reports a conflict.
//
// Hidden keys (names starting with `_`) are never listed by etcd; with the
// toggle on, the view adds `/_etcd` at the root and the hidden keys this
// page has written or opened, and any path can be opened by name.
import { request, keyPath, dirPath, cleanKey, describe, ApiError } from './api.js';
import { $, el, clip } from './dom.js';
import { refresh as refreshCluster, writeBase } from './cluster.js';

const REFRESH_MS = 2000;

let dir = '/';
let loaded = null; // {key, dir, modifiedIndex} of what the editor shows
let armedDelete = 0; // until when a second click deletes a directory
let shown = ''; // what the rows show now (see list)
const knownHidden = new Set(['/_etcd']);

export function setupKeys(isVisible) {
  $('#editor').addEventListener('submit', (e) => {
    e.preventDefault();
    save();
  });
  $('#delete').addEventListener('click', remove);
  $('#new-key').addEventListener('click', () => {
    newKey(dir === '/' ? '/' : dir + '/');
    $('#key-input').focus();
  });
  $('#key-input').addEventListener('input', hint);
  $('#show-hidden').addEventListener('change', () => list());
  $('#goto').addEventListener('submit', (e) => {
    e.preventDefault();
    open(cleanKey($('#goto-path').value));
  });
  setInterval(tickTTLs, 1000);
  newKey('/');
  (async () => {
    for (;;) {
      if (isVisible()) await list();
      await new Promise((r) => setTimeout(r, REFRESH_MS));
    }
  })();
}

export function showKeys() {
  return list();
}

function isHidden(key) {
  return key.split('/').some((part) => part.startsWith('_'));
}

function remember(key) {
  if (isHidden(key)) knownHidden.add(key);
}

// Open a path: a directory is listed, a file loaded into the editor.
async function open(key) {
  const ask = (path) => request(path).catch((e) => ({ status: 0, error: e }));
  let r = await ask(keyPath(key));
  // Refused as a key, it may still be a directory the user may list.
  if (r.status === 401) r = await ask(dirPath(key));
  if (r.status === 200 && r.json && r.json.node) {
    remember(key);
    const node = r.json.node;
    if (node.dir) {
      dir = node.key || '/';
      await list();
      if (dir !== '/') load(node);
    } else {
      dir = parentOf(node.key);
      await list();
      load(node);
    }
  } else {
    status('error', r.error ? r.error.message : `${key}: ${describe(r)}`);
  }
}

function parentOf(key) {
  const i = key.lastIndexOf('/');
  return i <= 0 ? '/' : key.slice(0, i);
}

async function list() {
  let r;
  try {
    r = await request(dirPath(dir) + '?sorted=true');
  } catch (e) {
    $('#keys-note').textContent = e.message;
    return;
  }
  if (r.status === 404 && dir !== '/') {
    // The directory went away (deleted, expired): show its parent.
    dir = parentOf(dir);
    return list();
  }
  if (!r.ok || !r.json || !r.json.node) {
    // Nothing from an earlier listing (another user's) stays on screen.
    shown = null;
    $('#key-rows').replaceChildren();
    renderCrumbs();
    $('#keys-note').textContent = r.status === 401
      ? `${dir}: ${describe(r)}; open a path you may read above`
      : describe(r);
    return;
  }
  const nodes = [...(r.json.node.nodes || [])];
  const showHidden = $('#show-hidden').checked;
  if (showHidden) nodes.push(...(await hiddenHere()));
  nodes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  renderCrumbs();
  // Rows are rebuilt only when the listing changed, so a refresh neither
  // flickers nor moves what the user is about to click; TTLs count down
  // on their own meanwhile.
  const signature = JSON.stringify([dir, nodes.map((n) => [n.key, n.value, n.dir, n.modifiedIndex, n.expiration])]);
  if (signature !== shown) {
    shown = signature;
    $('#key-rows').replaceChildren(...nodes.map(row));
  }
  $('#keys-note').textContent = nodes.length
    ? `${nodes.length} entr${nodes.length === 1 ? 'y' : 'ies'} in ${dir}, read at index ${r.headers.get('X-Etcd-Index')}`
    : `${dir} is empty${showHidden ? '' : ' (hidden keys are not listed)'}`;
}

// The hidden children of `dir` this page knows the names of.
async function hiddenHere() {
  const prefix = dir === '/' ? '/' : dir + '/';
  const names = [...knownHidden].filter((k) => k.startsWith(prefix) && !k.slice(prefix.length).includes('/'));
  const found = await Promise.all(names.map(async (k) => {
    try {
      const r = await request(keyPath(k));
      return r.ok && r.json && r.json.node ? strip(r.json.node) : null;
    } catch (e) {
      return null;
    }
  }));
  return found.filter(Boolean);
}

// A directory read for the list stands for itself, not its children.
function strip(node) {
  const { nodes, ...rest } = node;
  return rest;
}

function renderCrumbs() {
  const parts = dir.split('/').filter(Boolean);
  const crumbs = [el('a', { text: '/', onclick: () => go('/') })];
  let path = '';
  for (const p of parts) {
    path += '/' + p;
    const target = path;
    crumbs.push(el('a', { text: p, onclick: () => go(target) }), ' / ');
  }
  $('#crumbs').replaceChildren(...crumbs);
}

function go(path) {
  dir = path;
  list();
}

function row(node) {
  const name = node.key.slice(node.key.lastIndexOf('/') + 1);
  const onOpen = () => (node.dir ? go(node.key) : loadFresh(node.key));
  const ttl = el('td', { class: 'num' });
  if (node.ttl !== undefined) {
    // Counted down with the browser's clock from when it was read, so a
    // skew between this machine and the cluster does not matter.
    ttl.dataset.deadline = String(performance.now() + node.ttl * 1000);
    ttl.textContent = `${node.ttl} s`;
  }
  return el('tr', { 'data-test': 'key', 'data-key': node.key, 'data-dir': node.dir ? 'true' : 'false' },
    el('td', {}, el('button', { type: 'button', class: node.dir ? 'keyname dir' : 'keyname', text: name, onclick: onOpen })),
    el('td', { class: 'value', text: node.dir ? '' : clip(node.value ?? '') }),
    ttl,
    el('td', { class: 'num', text: node.modifiedIndex ?? '' }),
    el('td', { class: 'num', text: node.createdIndex ?? '' }));
}

function tickTTLs() {
  const now = performance.now();
  for (const td of document.querySelectorAll('[data-deadline]')) {
    const left = Math.ceil((Number(td.dataset.deadline) - now) / 1000);
    td.textContent = left > 0 ? `${left} s` : 'expiring';
  }
}

async function loadFresh(key) {
  try {
    const r = await request(keyPath(key));
    if (r.ok && r.json && r.json.node) load(r.json.node);
    else status('error', `${key}: ${describe(r)}`);
  } catch (e) {
    status('error', e.message);
  }
}

function load(node) {
  loaded = { key: node.key, dir: !!node.dir, modifiedIndex: node.modifiedIndex };
  $('#key-input').value = node.key;
  $('#value-input').value = node.dir ? '' : node.value ?? '';
  $('#ttl-input').value = '';
  $('#dir-input').checked = !!node.dir;
  $('#editor-title').textContent = node.dir ? 'Directory' : 'Edit key';
  status('', '');
  hint();
}

function newKey(prefix) {
  loaded = null;
  $('#key-input').value = prefix;
  $('#value-input').value = '';
  $('#ttl-input').value = '';
  $('#dir-input').checked = false;
  $('#editor-title').textContent = 'New key';
  status('', '');
  hint();
}

function editing() {
  const key = cleanKey($('#key-input').value);
  return loaded && loaded.key === key ? loaded : null;
}

function hint() {
  const cur = editing();
  const ttl = 'TTL empty: the key does not expire.';
  $('#editor-hint').textContent = cur
    ? cur.dir
      ? `Directory ${cur.key}, modifiedIndex ${cur.modifiedIndex}. Delete removes it and everything below.`
      : `Saving replaces the value only if ${cur.key} is still at modifiedIndex ${cur.modifiedIndex}. ${ttl}`
    : `Saving creates the key; it is not replaced if it exists. ${ttl}`;
  $('#value-input').disabled = !!(cur && cur.dir) || $('#dir-input').checked;
}

function status(kind, text) {
  const s = $('#key-status');
  s.dataset.kind = kind;
  s.textContent = text;
}

// A write through the leader; asked once more if the leader moved.
async function write(method, key, params) {
  const query = method === 'DELETE' ? '?' + new URLSearchParams(params).toString() : '';
  const form = method === 'DELETE' ? null : params;
  for (let attempt = 0; ; attempt++) {
    try {
      return await request(writeBase() + keyPath(key) + query, { method, form, timeout: 6000 });
    } catch (e) {
      const moved = e instanceof ApiError && (e.kind === 'redirect' || e.kind === 'network');
      if (!moved || attempt > 0) throw e;
      await refreshCluster();
    }
  }
}

async function save() {
  const key = cleanKey($('#key-input').value);
  if (key === '/') return status('error', 'Give the key a name.');
  const ttl = $('#ttl-input').value.trim();
  if (ttl && !/^\d+$/.test(ttl)) return status('error', 'TTL is a whole number of seconds.');
  const cur = editing();
  if (cur && cur.dir) return status('error', 'A directory has no value to save.');
  const params = {};
  const makeDir = !cur && $('#dir-input').checked;
  if (makeDir) params.dir = 'true';
  else params.value = $('#value-input').value;
  if (ttl) params.ttl = ttl;
  if (cur) params.prevIndex = String(cur.modifiedIndex);
  else params.prevExist = 'false';
  let r;
  try {
    r = await write('PUT', key, params);
  } catch (e) {
    return status('error', `Not saved: ${e.message}`);
  }
  remember(key);
  if (r.ok && r.json && r.json.node) {
    load(r.json.node);
    status('ok', `Saved ${key} at index ${r.json.node.modifiedIndex}.`);
    list();
    return;
  }
  const code = r.json && r.json.errorCode;
  if (cur && code === 101) {
    status('conflict', `Not saved: ${key} was changed by someone else since it was loaded ` +
      `(at index ${cur.modifiedIndex}; ${r.json.cause}). Open it again to see the new value.`);
  } else if (cur && code === 100) {
    status('conflict', `Not saved: ${key} was deleted since it was loaded.`);
  } else if (code === 105) {
    status('conflict', `Not saved: ${key} already exists. Open it from the list to change it.`);
  } else {
    status('error', `Not saved: ${describe(r)}`);
  }
}

async function remove() {
  const key = cleanKey($('#key-input').value);
  const cur = editing();
  if (!cur) return status('error', 'Open the key from the list first: delete checks it has not changed since.');
  let params;
  if (cur.dir) {
    if (Date.now() > armedDelete) {
      armedDelete = Date.now() + 5000;
      return status('conflict', `Click Delete again within 5 s to delete ${key} and everything below it.`);
    }
    armedDelete = 0;
    params = { dir: 'true', recursive: 'true' };
  } else {
    params = { prevIndex: String(cur.modifiedIndex) };
  }
  let r;
  try {
    r = await write('DELETE', key, params);
  } catch (e) {
    return status('error', `Not deleted: ${e.message}`);
  }
  const code = r.json && r.json.errorCode;
  if (r.ok) {
    newKey(parentOf(key) === '/' ? '/' : parentOf(key) + '/');
    status('ok', `Deleted ${key} at index ${r.json.node.modifiedIndex}.`);
    list();
  } else if (code === 101) {
    status('conflict', `Not deleted: ${key} was changed by someone else since it was loaded (${r.json.cause}).`);
  } else if (code === 100) {
    status('conflict', `Not deleted: ${key} is gone already.`);
  } else {
    status('error', `Not deleted: ${describe(r)}`);
  }
}
