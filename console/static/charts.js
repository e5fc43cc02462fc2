// Charts in plain SVG: a line per series over the last hour, one point per
// minute, the scale from zero to the largest value. No chart library.
const NS = 'http://www.w3.org/2000/svg';
const COLORS = ['#1f6feb', '#b42318', '#067647', '#a15c07', '#6e40c9', '#0e7490'];

function el(tag, attrs, ...kids) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

// lineChart draws series [{name, values: [number per minute]}] under title;
// unit formats an axis value. The SVG carries data-chart=name and
// data-max (the largest value drawn) for tests and tools.
export function lineChart(name, title, series, unit = v => String(v)) {
  const W = 420, H = 140, L = 48, R = 8, T = 20, B = 22;
  const n = Math.max(1, ...series.map(s => s.values.length));
  const maxV = Math.max(0, ...series.flatMap(s => s.values));
  const top = maxV > 0 ? maxV : 1;
  const x = i => L + (n === 1 ? 0 : (i * (W - L - R)) / (n - 1));
  const y = v => T + (H - T - B) * (1 - v / top);
  const svg = el('svg', {class: 'chart', 'data-chart': name, 'data-max': maxV, viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img'},
    el('title', {}, `${title}, the last hour per minute; largest ${unit(maxV)}`),
    el('text', {x: L, y: 13, class: 'chart-title'}, title),
    el('line', {x1: L, y1: y(0), x2: W - R, y2: y(0), class: 'axis'}),
    el('line', {x1: L, y1: T, x2: L, y2: y(0), class: 'axis'}),
    el('line', {x1: L, y1: y(top), x2: W - R, y2: y(top), class: 'grid'}),
    el('text', {x: L - 4, y: y(top) + 4, class: 'tick', 'text-anchor': 'end'}, unit(top)),
    el('text', {x: L - 4, y: y(0), class: 'tick', 'text-anchor': 'end'}, '0'),
    el('text', {x: L, y: H - 6, class: 'tick'}, '−60 min'),
    el('text', {x: W - R, y: H - 6, class: 'tick', 'text-anchor': 'end'}, 'now'));
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    svg.append(el('polyline', {points: s.values.map((v, j) => `${x(j).toFixed(1)},${y(v).toFixed(1)}`).join(' '),
      fill: 'none', stroke: color, 'stroke-width': 1.5, 'data-series': s.name}));
    // Legends three to a row, at most two rows (the lines are all drawn).
    if ((series.length > 1 || s.name !== title) && i < 6) {
      const label = i === 5 && series.length > 6 ? `+${series.length - 5} more` : s.name.length > 16 ? '…' + s.name.slice(-15) : s.name;
      svg.append(el('text', {x: L + 8 + (i % 3) * 120, y: T + 10 + Math.floor(i / 3) * 12, class: 'legend', fill: color}, label));
    }
  });
  return svg;
}
