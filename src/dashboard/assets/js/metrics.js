// Reading the Prometheus text format (/metrics): one sample per line,
// `name{label="value",…} number`; comments and blank lines skipped.
// Pure: no DOM, no requests.

export function parseMetrics(text) {
  const samples = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[4]);
    if (Number.isNaN(value) && m[4] !== 'NaN') continue;
    samples.push({ name: m[1], labels: parseLabels(m[3] || ''), value });
  }
  return samples;
}

function parseLabels(text) {
  const labels = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  let m;
  while ((m = re.exec(text))) labels[m[1]] = m[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
  return labels;
}

// The sum of every sample named `name` whose labels pass `keep`.
export function total(samples, name, keep = () => true) {
  let sum = 0;
  let seen = false;
  for (const s of samples) {
    if (s.name === name && keep(s.labels)) {
      sum += s.value;
      seen = true;
    }
  }
  return seen ? sum : null;
}
