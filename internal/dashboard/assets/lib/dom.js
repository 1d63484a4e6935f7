// A few helpers to build DOM without a framework: h() for HTML elements,
// svg() for SVG ones. Attributes named on* take listeners; null, undefined
// and false attributes or children are left out; arrays are flattened.

export const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2).toLowerCase(), v);
    } else if (k === 'class') {
      el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    } else if (v === true) {
      el.setAttribute(k, '');
    } else {
      el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

// replace puts children in place of el's content.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// Icons, drawn in a 16x16 box with the current colour.
const ICONS = {
  play: 'M5 3.5v9l7.5-4.5z',
  stop: 'M4 4h8v8H4z',
  again: 'M13 8a5 5 0 1 1-1.46-3.54M13 2.5v3h-3',
  check: 'M3.5 8.5l3 3 6-7',
  cross: 'M4.5 4.5l7 7m0-7l-7 7',
  clock: 'M8 4.5V8l2.5 1.5M14 8A6 6 0 1 1 2 8a6 6 0 0 1 12 0z',
  minus: 'M4 8h8',
  bolt: 'M9 1.5L3.5 9H8l-1 5.5L12.5 7H8z',
  pause: 'M5 3.5v9M11 3.5v9',
};

export function icon(name, filled) {
  const path = svg('path', {d: ICONS[name]});
  const attrs = {viewBox: '0 0 16 16', 'aria-hidden': 'true'};
  if (filled) attrs.fill = 'currentColor';
  else Object.assign(attrs, {fill: 'none', stroke: 'currentColor', 'stroke-width': 1.8, 'stroke-linecap': 'round', 'stroke-linejoin': 'round'});
  return svg('svg', attrs, path);
}
