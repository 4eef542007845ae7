// The dashboard's entry: tabs (#cluster, #keys, #live, #charts in the
// URL), and starting each view. Views fetch their own data (see each
// module); nothing here talks to the cluster.
import { $ } from './dom.js';
import { setupAccount } from './auth.js';
import { start as startCluster } from './cluster.js';
import { setupKeys, showKeys } from './keys.js';
import { setupLive } from './live.js';
import { setupCharts } from './charts.js';

const VIEWS = ['cluster', 'keys', 'live', 'charts'];

function current() {
  const name = location.hash.replace(/^#/, '');
  return VIEWS.includes(name) ? name : 'cluster';
}

function showView() {
  const name = current();
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== name;
  for (const a of document.querySelectorAll('[data-tab]')) a.classList.toggle('active', a.dataset.tab === name);
  document.body.dataset.view = name;
  if (name === 'keys') showKeys();
}

setupAccount();
setupKeys(() => current() === 'keys');
setupLive();
setupCharts();
window.addEventListener('hashchange', showView);
showView();
startCluster();
