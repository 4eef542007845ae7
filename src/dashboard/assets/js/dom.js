// Small DOM helpers. Text reaches the page only through textContent (and
// attribute values through setAttribute): key names and values are never
// parsed as HTML.

export const $ = (selector) => document.querySelector(selector);

// el('td', {class: 'num', text: '42', 'data-key': k}, child, 'text', …)
export function el(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

function fill(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else if (typeof value === 'function') node.addEventListener(name.replace(/^on/, ''), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  // append() turns strings into text nodes.
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// Only http(s) links: a URL from the cluster is data, never `javascript:`.
export function safeHref(url) {
  return /^https?:\/\//i.test(url) ? url : null;
}

export function clip(text, max = 120) {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function banner(text, kind = 'warn') {
  const b = $('#banner');
  b.hidden = !text;
  b.textContent = text || '';
  b.dataset.kind = kind;
}
