// distsim space-time diagram. Draws the embedded timeline (see src/trace/export/timeline.rs for the
// shape of the data) on one canvas: a lane per node, virtual time running down the page.
'use strict';
(function () {
  var D = JSON.parse(document.getElementById('data').textContent);
  var M = D.meta;
  var cv = document.getElementById('cv');
  var ctx = cv.getContext('2d');
  var card = document.getElementById('card');

  var HAS_GROUPS = D.lanes.some(function (l) { return l.group; });
  var HEAD = HAS_GROUPS ? 58 : 46, RULER = 70, MINI = 18, PAD_BOTTOM = 12;
  var PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b',
    '#e377c2', '#bcbd22', '#393b79', '#637939', '#7b4173'];
  var FAULT_COLOURS = { partition: '#f2a33a', isolate: '#f2a33a', cut: '#d9a400', crash: '#d62728',
    pause: '#7f7f7f', byzantine: '#9b3fd1', clock: '#1f9bd1', link: '#5b8c5a', heal: '#2ca02c',
    restart: '#2ca02c', resume: '#2ca02c' };
  var OP_COLOURS = { ok: '#2ca02c', fail: '#d62728', info: '#f0a020', open: '#9aa3b2' };
  var ROLE_STYLE = { leader: ['#d4a017', 5], primary: ['#d4a017', 5], coordinator: ['#d4a017', 5],
    holder: ['#d4a017', 5], candidate: ['#ff7f0e', 3], follower: ['#8d96a5', 1.5] };

  var lanes = D.lanes;
  // Whole-run aggregates, summed once: the largest lane count, and the total per bucket.
  var AGG = { laneMax: 1, total: [], totalMax: 1 };
  D.agg.drops.forEach(function (d, b) {
    var s = d;
    D.agg.lanes.forEach(function (row) { s += row[b]; if (row[b] > AGG.laneMax) AGG.laneMax = row[b]; });
    AGG.total.push(s); if (s > AGG.totalMax) AGG.totalMax = s;
  });
  var DENSE_PER_PX = 0.6;
  // The longest a detailed message took, so that arrows sent above the view are counted too.
  var maxLatency = 0;
  D.msgs.forEach(function (m) { if (m[4] !== 2 && m[5] - m[0] > maxLatency) maxLatency = m[5] - m[0]; });
  var end = Math.max(M.end_ns, 1);
  var hiddenKinds = {}, hiddenNodes = {};
  var layers = { notes: true, timers: true, ops: true, faults: true, density: true, roles: true };

  // Role intervals per node, in time order.
  var roleByNode = lanes.map(function () { return []; });
  D.roles.forEach(function (r) { if (roleByNode[r[1]]) roleByNode[r[1]].push(r); });
  function roleAt(node, t) {
    var rs = roleByNode[node], role = undefined;
    for (var i = 0; i < rs.length && rs[i][0] <= t; i++) role = rs[i][2];
    return role;
  }
  function colourOfKind(k) { return PALETTE[k % PALETTE.length]; }
  function colourOfRole(role) {
    if (ROLE_STYLE[role]) return ROLE_STYLE[role];
    var h = 0;
    for (var i = 0; i < role.length; i++) h = (h * 31 + role.charCodeAt(i)) >>> 0;
    return [PALETTE[h % PALETTE.length], 3];
  }

  // View state: the time at the top of the plot, the scale, and a horizontal offset for many lanes.
  var view = { t0: 0, nsPerPx: 1, x0: 0 };
  var W = 0, H = 0;
  function plotH() { return Math.max(50, H - HEAD - PAD_BOTTOM); }
  function laneW() { return Math.max(46, (W - RULER - MINI - 8) / Math.max(lanes.length, 1)); }
  function laneX(i) { return RULER + 4 + (i + 0.5) * laneW() - view.x0; }
  function yOf(t) { return HEAD + (t - view.t0) / view.nsPerPx; }
  function tOf(y) { return view.t0 + (y - HEAD) * view.nsPerPx; }

  function fmtT(ns, digits) {
    var ms = ns / 1e6;
    return ms.toFixed(digits === undefined ? 3 : digits) + ' ms';
  }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c];
    });
  }
  function label(n) { return lanes[n] ? lanes[n].label : 'node ' + n; }

  // ---- drawing ----
  var hits = [];
  var stats = {};

  function resize() {
    var r = cv.getBoundingClientRect();
    var dpr = window.devicePixelRatio || 1;
    W = Math.max(300, r.width); H = Math.max(200, r.height);
    cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  function draw() {
    hits = [];
    stats = { lanes: 0, arrows: 0, dropped: 0, duplicates: 0, bands: 0, marks: 0, ops: 0, density: 0, violation: 0 };
    ctx.clearRect(0, 0, W, H);
    var tTop = tOf(HEAD), tBot = tOf(H);
    ctx.save();
    ctx.beginPath(); ctx.rect(RULER, HEAD, W - RULER - MINI, H - HEAD); ctx.clip();
    // Too many arrows to tell apart: draw the densities everywhere instead, and say so.
    var inView = msgsSentBefore(tBot) - msgsSentBefore(tTop - maxLatency);
    var dense = inView > plotH() * DENSE_PER_PX;
    stats.mode = dense ? 'density' : 'arrows';
    drawDetailWindow(tTop, tBot);
    if (layers.faults) drawFaults(tTop, tBot);
    drawLanes(tTop, tBot);
    if (layers.density || dense) drawDensity(tTop, tBot, dense);
    if (layers.ops) drawOps(tTop, tBot, dense);
    if (!dense) {
      drawMessages(tTop, tBot);
      drawMarks(tTop, tBot);
    } else {
      drawDrops(tTop, tBot);
    }
    drawViolation(tTop, tBot);
    if (dense) {
      ctx.font = 'bold 12px system-ui, sans-serif';
      var note = 'zoomed out: about ' + inView + ' messages in view, drawn as density per lane. Zoom in (ctrl+wheel, +) to see each arrow.';
      var tw = ctx.measureText(note).width;
      ctx.fillStyle = 'rgba(255,255,255,.92)'; ctx.fillRect(RULER + 6, HEAD + 6, tw + 12, 20);
      ctx.fillStyle = '#3b5b8c'; ctx.fillText(note, RULER + 12, HEAD + 20);
    }
    ctx.restore();
    drawRuler(tTop, tBot);
    drawHeader(tTop);
    drawMini();
    var c = cv.dataset;
    Object.keys(stats).forEach(function (k) { c[k] = String(stats[k]); });
    document.getElementById('readout').textContent =
      fmtT(Math.max(0, tTop)) + ' – ' + fmtT(Math.min(end, tBot)) + '  (' + fmtT(view.nsPerPx * 100, 3) + ' / 100 px)';
  }

  function drawDetailWindow(tTop, tBot) {
    // Outside the detail window only densities are known: grey it out and say so.
    ctx.fillStyle = '#f1f2f5';
    var a = yOf(M.detail_from_ns), b = yOf(M.detail_to_ns);
    if (a > HEAD) ctx.fillRect(RULER, HEAD, W, a - HEAD);
    if (b < H) ctx.fillRect(RULER, Math.max(b, HEAD), W, H - Math.max(b, HEAD));
    var ye = yOf(end);
    if (ye < H) { ctx.fillStyle = '#e3e5ea'; ctx.fillRect(RULER, Math.max(ye, HEAD), W, H); }
    ctx.fillStyle = '#7a8291'; ctx.font = '11px system-ui, sans-serif';
    if (a > HEAD + 16) ctx.fillText('before the detail window: message density only', RULER + 8, a - 6);
    if (b < H - 16 && b < ye - 16) ctx.fillText('after the detail window: message density only', RULER + 8, Math.max(b, HEAD) + 14);
    if (ye < H - 16) ctx.fillText('end of run', RULER + 8, Math.max(ye, HEAD) + 14);
  }

  function bandLanes(f) { return f.nodes.length ? f.nodes : lanes.map(function (l) { return l.id; }); }

  function drawFaults(tTop, tBot) {
    var w = laneW();
    D.faults.forEach(function (f) {
      var t1 = f.to_ns === null ? end : f.to_ns;
      if (t1 < tTop || f.from_ns > tBot) return;
      var col = FAULT_COLOURS[f.action] || '#888';
      var nodes = bandLanes(f).filter(function (n) { return n < lanes.length; });
      var y0 = yOf(f.from_ns), y1 = yOf(t1);
      var xs = nodes.map(laneX);
      var xmin = Math.min.apply(null, xs) - w / 2, xmax = Math.max.apply(null, xs) + w / 2;
      if (f.instant) {
        ctx.strokeStyle = col; ctx.lineWidth = 1.5; ctx.setLineDash([6, 4]);
        ctx.beginPath(); ctx.moveTo(xmin, y0); ctx.lineTo(xmax, y0); ctx.stroke(); ctx.setLineDash([]);
        hits.push({ kind: 'fault', f: f, x0: xmin, x1: xmax, y0: y0 - 4, y1: y0 + 4 });
      } else {
        ctx.fillStyle = col; ctx.globalAlpha = 0.16;
        xs.forEach(function (x) { ctx.fillRect(x - w / 2 + 2, y0, w - 4, y1 - y0); });
        ctx.globalAlpha = 1; ctx.strokeStyle = col; ctx.lineWidth = 2;
        xs.forEach(function (x) {
          ctx.beginPath(); ctx.moveTo(x - w / 2 + 2, y0); ctx.lineTo(x + w / 2 - 2, y0); ctx.stroke();
          hits.push({ kind: 'fault', f: f, x0: x - w / 2, x1: x + w / 2, y0: y0, y1: y1 });
        });
      }
      ctx.fillStyle = col; ctx.font = 'bold 11px system-ui, sans-serif';
      var ly = Math.min(Math.max(y0, HEAD) + 13, Math.max(y1, y0 + 13));
      ctx.fillText(f.label, xmin + 4, f.instant ? y0 - 4 : ly);
      stats.bands++;
    });
  }

  function drawLanes(tTop, tBot) {
    lanes.forEach(function (l, i) {
      var x = laneX(i);
      if (x < RULER - 40 || x > W + 40) return;
      stats.lanes++;
      var dim = hiddenNodes[l.id];
      ctx.globalAlpha = dim ? 0.25 : 1;
      var yEnd = Math.min(yOf(end), H);
      ctx.strokeStyle = l.client ? '#9fb3c8' : '#c5cad3'; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(x, Math.max(HEAD, yOf(0))); ctx.lineTo(x, yEnd); ctx.stroke();
      if (layers.roles) {
        var rs = roleByNode[i];
        for (var k = 0; k < rs.length; k++) {
          var a = rs[k][0], b = k + 1 < rs.length ? rs[k + 1][0] : end;
          if (b < tTop || a > tBot) continue;
          var role = rs[k][2];
          var y0 = Math.max(yOf(a), HEAD - 2), y1 = Math.min(yOf(b), H + 2);
          if (role === null) {
            ctx.strokeStyle = '#d62728'; ctx.lineWidth = 1.5; ctx.setLineDash([3, 3]);
          } else {
            var st = colourOfRole(role); ctx.strokeStyle = st[0]; ctx.lineWidth = st[1];
          }
          ctx.beginPath(); ctx.moveTo(x, y0); ctx.lineTo(x, y1); ctx.stroke(); ctx.setLineDash([]);
          if (role && yOf(a) >= HEAD && yOf(a) <= H) {
            // Left of the lane: notes take the right.
            ctx.fillStyle = ctx.strokeStyle; ctx.font = '10px system-ui, sans-serif'; ctx.textAlign = 'right';
            ctx.fillText(role, x - 5, yOf(a) + 3); ctx.textAlign = 'left';
          }
        }
      }
      ctx.globalAlpha = 1;
    });
  }

  function inDetail(t) { return t >= M.detail_from_ns && t <= M.detail_to_ns; }

  // Messages are in send order: the number sent before `t`, by binary search.
  function msgsSentBefore(t) {
    var lo = 0, hi = D.msgs.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (D.msgs[mid][0] < t) lo = mid + 1; else hi = mid; }
    return lo;
  }

  // Drops per bucket, as red ticks beside the ruler.
  function drawDrops(tTop, tBot) {
    var bns = D.agg.bucket_ns, nb = D.agg.drops.length, max = 1;
    D.agg.drops.forEach(function (v) { if (v > max) max = v; });
    ctx.fillStyle = '#c0262d';
    for (var b = Math.max(0, Math.floor(tTop / bns)); b <= Math.min(nb - 1, Math.floor(tBot / bns)); b++) {
      if (!D.agg.drops[b]) continue;
      ctx.globalAlpha = 0.25 + 0.75 * D.agg.drops[b] / max;
      ctx.fillRect(RULER + 2, yOf(b * bns), 8, Math.max(1, bns / view.nsPerPx));
    }
    ctx.globalAlpha = 1;
  }

  function drawDensity(tTop, tBot, everywhere) {
    var bns = D.agg.bucket_ns, nb = D.agg.drops.length, w = laneW(), max = AGG.laneMax;
    if (!nb) return;
    var b0 = Math.max(0, Math.floor(tTop / bns)), b1 = Math.min(nb - 1, Math.floor(tBot / bns));
    ctx.fillStyle = '#3b5b8c';
    D.agg.lanes.forEach(function (row, i) {
      var x = laneX(i);
      if (x < RULER - w || x > W + w || hiddenNodes[lanes[i].id]) return;
      for (var b = b0; b <= b1; b++) {
        if (!row[b]) continue;
        // Only the part of the bucket outside the detail window, where no arrows are drawn.
        var ta = b * bns, tb = Math.min((b + 1) * bns, end);
        if (!everywhere) {
          if (ta >= M.detail_from_ns && tb <= M.detail_to_ns) continue;
          if (ta < M.detail_from_ns) tb = Math.min(tb, M.detail_from_ns);
          else ta = Math.max(ta, M.detail_to_ns);
        }
        var y = yOf(ta), h = Math.max(1, (tb - ta) / view.nsPerPx);
        ctx.globalAlpha = 0.12 + 0.6 * row[b] / max;
        ctx.fillRect(x - w * 0.3, y, w * 0.6, h);
        stats.density++;
        if (h > 6) hits.push({ kind: 'density', lane: i, b: b, x0: x - w * 0.3, x1: x + w * 0.3, y0: y, y1: y + h });
      }
    });
    ctx.globalAlpha = 1;
  }

  function drawOps(tTop, tBot, dense) {
    ctx.font = '10px system-ui, sans-serif';
    D.ops.forEach(function (o) {
      var t1 = o[2] === null ? end : o[2];
      if (t1 < tTop || o[1] > tBot || hiddenNodes[o[0]]) return;
      var x = laneX(o[0]) + 7, y0 = yOf(o[1]), y1 = Math.max(yOf(t1), y0 + 2);
      ctx.fillStyle = OP_COLOURS[o[3]] || '#777';
      ctx.globalAlpha = 0.85; ctx.fillRect(x - 2.5, y0, 5, y1 - y0); ctx.globalAlpha = 1;
      if (!dense && (y1 - y0 > 14 || view.nsPerPx < 2e5)) ctx.fillText(fit(o[4], laneW() / 2 + 20), x + 5, y0 + 9);
      hits.push({ kind: 'op', o: o, x0: x - 4, x1: x + 4, y0: y0, y1: y1 });
      stats.ops++;
    });
  }

  function arrowHead(x0, y0, x1, y1) {
    var a = Math.atan2(y1 - y0, x1 - x0), s = 7;
    ctx.beginPath(); ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - s * Math.cos(a - 0.4), y1 - s * Math.sin(a - 0.4));
    ctx.lineTo(x1 - s * Math.cos(a + 0.4), y1 - s * Math.sin(a + 0.4));
    ctx.closePath(); ctx.fill();
  }

  function drawMessages(tTop, tBot) {
    D.msgs.forEach(function (m) {
      var t1 = m[4] === 2 ? end : m[5];
      if (t1 < tTop || m[0] > tBot || hiddenKinds[m[3]] || hiddenNodes[m[1]] || hiddenNodes[m[2]]) return;
      var x0 = laneX(m[1]), y0 = yOf(m[0]), x1 = laneX(m[2]), y1 = yOf(t1);
      if (m[1] === m[2]) x1 += 14;
      var col = colourOfKind(m[3]);
      ctx.strokeStyle = col; ctx.fillStyle = col; ctx.lineWidth = 1.3;
      if (m[7]) { ctx.setLineDash([5, 3]); stats.duplicates++; }
      if (m[4] === 2) ctx.setLineDash([2, 3]);
      var xe = x1, ye = y1;
      if (m[4] === 1) { xe = x0 + (x1 - x0) * 0.75; ye = y0 + (y1 - y0) * 0.75; }
      ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(xe, ye); ctx.stroke(); ctx.setLineDash([]);
      if (m[4] === 0) arrowHead(x0, y0, x1, y1);
      if (m[4] === 1) {
        ctx.strokeStyle = '#c0262d'; ctx.lineWidth = 2.2;
        ctx.beginPath(); ctx.moveTo(xe - 5, ye - 5); ctx.lineTo(xe + 5, ye + 5);
        ctx.moveTo(xe + 5, ye - 5); ctx.lineTo(xe - 5, ye + 5); ctx.stroke();
        stats.dropped++;
      }
      if (m[7]) {
        ctx.fillStyle = '#fff'; ctx.strokeStyle = col; ctx.lineWidth = 1.2;
        ctx.beginPath(); ctx.arc(x0 + (xe - x0) * 0.15, y0 + (ye - y0) * 0.15, 5, 0, 7); ctx.fill(); ctx.stroke();
        ctx.fillStyle = col; ctx.font = 'bold 8px system-ui, sans-serif';
        ctx.fillText('2', x0 + (xe - x0) * 0.15 - 2.5, y0 + (ye - y0) * 0.15 + 3);
      }
      hits.push({ kind: 'msg', m: m, ax: x0, ay: y0, bx: xe, by: ye });
      stats.arrows++;
    });
  }

  function drawMarks(tTop, tBot) {
    var lastLabelY = {};
    ctx.font = '10px system-ui, sans-serif';
    D.marks.forEach(function (k) {
      if (k[0] < tTop || k[0] > tBot || hiddenNodes[k[1]]) return;
      if (k[2] === 0 && !layers.notes) return;
      if (k[2] === 1 && !layers.timers) return;
      var x = laneX(k[1]), y = yOf(k[0]);
      if (k[2] === 0) {
        ctx.fillStyle = '#2d3748'; ctx.beginPath(); ctx.arc(x, y, 2.6, 0, 7); ctx.fill();
        var ly = lastLabelY[k[1]];
        if (ly === undefined || y - ly > 12) {
          ctx.fillText(fit(k[3], laneW() / 2 - 6), x + 5, y - 2);
          lastLabelY[k[1]] = y;
        }
      } else if (k[2] === 1) {
        ctx.strokeStyle = '#6b7280'; ctx.lineWidth = 1.2; ctx.beginPath(); ctx.arc(x, y, 3.5, 0, 7); ctx.stroke();
      } else {
        ctx.fillStyle = '#2ca02c'; ctx.beginPath();
        ctx.moveTo(x - 5, y - 4); ctx.lineTo(x + 5, y - 4); ctx.lineTo(x, y + 4); ctx.closePath(); ctx.fill();
      }
      hits.push({ kind: 'mark', k: k, x: x, y: y });
      stats.marks++;
    });
  }

  // `text` cut with an ellipsis to fit `px` pixels in the current font.
  function fit(text, px) {
    if (ctx.measureText(text).width <= px) return text;
    var lo = 0, hi = text.length;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (ctx.measureText(text.slice(0, mid) + '…').width <= px) lo = mid; else hi = mid - 1;
    }
    return lo ? text.slice(0, lo) + '…' : '';
  }

  function drawViolation(tTop, tBot) {
    var v = D.violation;
    if (!v || v.t < tTop || v.t > tBot) return;
    var y = yOf(v.t);
    ctx.strokeStyle = '#c0262d'; ctx.lineWidth = 2.5;
    ctx.beginPath(); ctx.moveTo(RULER, y); ctx.lineTo(W - MINI, y); ctx.stroke();
    if (v.node !== null && v.node < lanes.length) {
      ctx.beginPath(); ctx.arc(laneX(v.node), y, 11, 0, 7); ctx.stroke();
    }
    ctx.font = 'bold 12px system-ui, sans-serif';
    var text = 'VIOLATION · ' + v.checker + ': ' + v.message;
    var tw = ctx.measureText(text).width;
    ctx.fillStyle = 'rgba(255,244,244,.95)'; ctx.fillRect(RULER + 6, y + 4, tw + 10, 18);
    ctx.fillStyle = '#c0262d'; ctx.fillText(text, RULER + 11, y + 17);
    hits.push({ kind: 'violation', x0: RULER, x1: W, y0: y - 4, y1: y + 22 });
    stats.violation = 1;
  }

  function niceStep(ns) {
    var p = Math.pow(10, Math.floor(Math.log10(ns)));
    var m = ns / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  function drawRuler(tTop, tBot) {
    ctx.fillStyle = '#f6f7f9'; ctx.fillRect(0, HEAD, RULER, H - HEAD);
    ctx.strokeStyle = '#d8dce3'; ctx.beginPath(); ctx.moveTo(RULER, HEAD); ctx.lineTo(RULER, H); ctx.stroke();
    var step = niceStep(view.nsPerPx * 60);
    var digits = Math.max(0, Math.min(6, -Math.floor(Math.log10(step / 1e6) + 1e-9)));
    ctx.fillStyle = '#4a5261'; ctx.font = '10px system-ui, sans-serif'; ctx.textAlign = 'right';
    for (var t = Math.max(0, Math.ceil(tTop / step) * step); t <= tBot; t += step) {
      var y = yOf(t);
      ctx.strokeStyle = '#9aa3b2'; ctx.beginPath(); ctx.moveTo(RULER - 6, y); ctx.lineTo(RULER, y); ctx.stroke();
      ctx.strokeStyle = 'rgba(0,0,0,.05)'; ctx.beginPath(); ctx.moveTo(RULER, y); ctx.lineTo(W - MINI, y); ctx.stroke();
      ctx.fillText(fmtT(t, digits), RULER - 8, y + 3);
    }
    ctx.textAlign = 'left';
  }

  function drawHeader(tTop) {
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, HEAD);
    ctx.strokeStyle = '#d8dce3'; ctx.beginPath(); ctx.moveTo(0, HEAD - 0.5); ctx.lineTo(W, HEAD - 0.5); ctx.stroke();
    ctx.fillStyle = '#5a6372'; ctx.font = '10px system-ui, sans-serif'; ctx.fillText('virtual time', 6, HEAD - 8);
    ctx.save(); ctx.beginPath(); ctx.rect(RULER, 0, W - RULER - MINI, HEAD); ctx.clip();
    ctx.textAlign = 'center';
    lanes.forEach(function (l, i) {
      var x = laneX(i);
      ctx.globalAlpha = hiddenNodes[l.id] ? 0.35 : 1;
      ctx.fillStyle = l.client ? '#3b6ea5' : '#1d2330'; ctx.font = 'bold 13px system-ui, sans-serif';
      ctx.fillText(l.label, x, 18);
      var role = roleAt(i, Math.max(0, tTop));
      ctx.font = '10px system-ui, sans-serif';
      ctx.fillStyle = role === null ? '#d62728' : '#5a6372';
      ctx.fillText(l.client ? 'client' : role === null ? 'down' : role || '', x, 33);
      if (l.group) {
        ctx.fillStyle = '#7b4173'; ctx.font = 'italic 10px system-ui, sans-serif';
        ctx.fillText(fit(l.group, laneW() - 6), x, 47);
      }
    });
    ctx.textAlign = 'left'; ctx.globalAlpha = 1; ctx.restore();
  }

  // The overview strip: density of the whole run, the detail window, the violation, the view.
  function drawMini() {
    var x = W - MINI, h = H - HEAD, nb = D.agg.drops.length, tot = AGG.total, max = AGG.totalMax;
    ctx.fillStyle = '#eef0f4'; ctx.fillRect(x, HEAD, MINI, h);
    ctx.fillStyle = '#3b5b8c';
    for (var b = 0; b < nb; b++) {
      if (!tot[b]) continue;
      var y = HEAD + (b * D.agg.bucket_ns / end) * h;
      ctx.globalAlpha = 0.15 + 0.85 * tot[b] / max;
      ctx.fillRect(x + 3, y, MINI - 6, Math.max(1, D.agg.bucket_ns / end * h));
    }
    ctx.globalAlpha = 1;
    ctx.fillStyle = '#2ca02c';
    ctx.fillRect(x, HEAD + M.detail_from_ns / end * h, 3, Math.max(2, (M.detail_to_ns - M.detail_from_ns) / end * h));
    if (D.violation) { ctx.fillStyle = '#c0262d'; ctx.fillRect(x, HEAD + D.violation.t / end * h - 1, MINI, 3); }
    ctx.strokeStyle = '#1d2330'; ctx.lineWidth = 1;
    var v0 = HEAD + Math.max(0, view.t0) / end * h, v1 = HEAD + Math.min(end, tOf(H)) / end * h;
    ctx.strokeRect(x + 0.5, v0, MINI - 1, Math.max(2, v1 - v0));
  }

  // ---- hover card ----
  function segDist(px, py, h) {
    var dx = h.bx - h.ax, dy = h.by - h.ay, l2 = dx * dx + dy * dy;
    var u = l2 ? Math.max(0, Math.min(1, ((px - h.ax) * dx + (py - h.ay) * dy) / l2)) : 0;
    var x = h.ax + u * dx - px, y = h.ay + u * dy - py;
    return Math.sqrt(x * x + y * y);
  }
  function pick(px, py) {
    var best = null, bd = 7;
    for (var i = hits.length - 1; i >= 0; i--) {
      var h = hits[i], d;
      if (h.kind === 'mark') d = Math.hypot(h.x - px, h.y - py) - 1;
      else if (h.kind === 'msg') d = segDist(px, py, h);
      else d = px >= h.x0 && px <= h.x1 && py >= h.y0 && py <= h.y1 ? 4 : 99;
      if (d < bd) { bd = d; best = h; }
    }
    return best;
  }
  var FATES = ['delivered', 'dropped', 'in flight at the end'];
  function describe(h) {
    if (h.kind === 'msg') {
      var m = h.m;
      return '<b>' + esc(D.kinds[m[3]]) + '</b>' + esc(label(m[1])) + ' → ' + esc(label(m[2])) +
        ' · id ' + m[6] + (m[7] ? ' · duplicate copy' : '') + '<br>sent ' + fmtT(m[0]) + ' · ' + FATES[m[4]] +
        (m[9] ? ' (' + esc(m[9]) + ')' : '') +
        (m[4] === 2 ? '' : ' ' + fmtT(m[5]) + ' (+' + fmtT(m[5] - m[0]) + ')') + '<pre>' + esc(pretty(m[8])) + '</pre>';
    }
    if (h.kind === 'mark') {
      var k = h.k;
      return '<b>' + ['note', 'timer fired', 'start'][k[2]] + ' · ' + esc(label(k[1])) + '</b>' + fmtT(k[0]) + '<pre>' + esc(k[3]) + '</pre>';
    }
    if (h.kind === 'op') {
      var o = h.o;
      return '<b>client operation · ' + esc(label(o[0])) + ' · ' + esc(o[3]) + '</b>' + esc(o[4]) +
        '<br>invoked ' + fmtT(o[1]) + (o[2] === null ? ', never completed' : ', completed ' + fmtT(o[2]));
    }
    if (h.kind === 'fault') {
      var f = h.f;
      return '<b>fault · ' + esc(f.action) + '</b>' + esc(f.label) + '<br>' + fmtT(f.from_ns) +
        (f.instant ? '' : ' – ' + (f.to_ns === null ? 'end of run' : fmtT(f.to_ns)));
    }
    if (h.kind === 'density') {
      var t = h.b * D.agg.bucket_ns;
      return '<b>' + esc(label(h.lane)) + ': ' + D.agg.lanes[h.lane][h.b] + ' messages sent or delivered</b>' +
        fmtT(t) + ' – ' + fmtT(t + D.agg.bucket_ns);
    }
    var v = D.violation;
    return '<b>violation · ' + esc(v.checker) + '</b>' + esc(v.message) + '<br>event ' + v.e + ' at ' + fmtT(v.t);
  }
  // A message as one line per top-level field, values compact (a cut body stays as it is).
  function pretty(s) {
    var o;
    try { o = JSON.parse(s); } catch (e) { return s; }
    if (!o || typeof o !== 'object' || Array.isArray(o)) return JSON.stringify(o);
    return Object.keys(o).map(function (k) { return k + ': ' + JSON.stringify(o[k]); }).join('\n');
  }

  // ---- moving around ----
  function zoomAt(y, factor) {
    var t = tOf(y);
    view.nsPerPx = Math.min(Math.max(view.nsPerPx * factor, 1), end / 20);
    view.t0 = t - (y - HEAD) * view.nsPerPx;
    draw();
  }
  function show(from, to) {
    var span = Math.max(to - from, 1000);
    view.nsPerPx = Math.max(span / plotH(), 1);
    view.t0 = from;
    draw();
  }
  function centreOn(t, span) {
    view.nsPerPx = Math.max(span / plotH(), 1);
    view.t0 = t - span * 0.85;
    draw();
  }
  // The first view: the violation with the messages leading up to it, or the start of the details.
  function initialView() {
    // A link may name the view: #from=2000&to=2500 (virtual milliseconds).
    var h = /from=([0-9.]+)&to=([0-9.]+)/.exec(location.hash);
    if (h && Number(h[2]) > Number(h[1])) { show(Number(h[1]) * 1e6, Number(h[2]) * 1e6); return; }
    var times = D.msgs.map(function (m) { return m[0]; });
    var N = 90;
    if (D.violation) {
      var v = D.violation.t, i = times.length - 1;
      while (i > 0 && times[i] > v) i--;
      var from = times[Math.max(0, i - N)];
      centreOn(v, Math.max((v - (from === undefined ? 0 : from)) * 1.33, 2e6));
    } else if (times.length) {
      var first = Math.max(M.detail_from_ns, times[0] - 1e6);
      show(first, times[Math.min(times.length - 1, N)] + 1e6);
    } else {
      show(0, end);
    }
  }

  var drag = null;
  cv.addEventListener('wheel', function (e) {
    e.preventDefault();
    var r = cv.getBoundingClientRect();
    if (e.ctrlKey || e.metaKey) zoomAt(e.clientY - r.top, Math.exp(e.deltaY * 0.002));
    else if (e.shiftKey) { view.x0 += e.deltaY; draw(); }
    else { view.t0 += e.deltaY * view.nsPerPx; view.x0 += e.deltaX; draw(); }
  }, { passive: false });
  cv.addEventListener('pointerdown', function (e) {
    var r = cv.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
    if (x > W - MINI) { centreOn(Math.max(0, (y - HEAD) / (H - HEAD)) * end, plotH() * view.nsPerPx * 1.33); return; }
    drag = { x: e.clientX, y: e.clientY, t0: view.t0, x0: view.x0 };
    cv.classList.add('dragging'); cv.setPointerCapture(e.pointerId);
  });
  cv.addEventListener('pointermove', function (e) {
    var r = cv.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
    if (drag) {
      view.t0 = drag.t0 - (e.clientY - drag.y) * view.nsPerPx;
      view.x0 = Math.max(0, drag.x0 - (e.clientX - drag.x));
      card.hidden = true; draw(); return;
    }
    var h = y > HEAD && x > RULER ? pick(x, y) : null;
    if (!h) { card.hidden = true; return; }
    card.innerHTML = describe(h); card.hidden = false;
    var cw = card.offsetWidth, ch = card.offsetHeight;
    card.style.left = Math.min(x + 14, W - cw - 4) + 'px';
    card.style.top = Math.max(4, Math.min(y + 14, H - ch - 4)) + 'px';
  });
  function endDrag() { drag = null; cv.classList.remove('dragging'); }
  cv.addEventListener('pointerup', endDrag);
  cv.addEventListener('pointercancel', endDrag);
  cv.addEventListener('pointerleave', function () { if (!drag) card.hidden = true; });
  window.addEventListener('keydown', function (e) {
    if (e.key === '+' || e.key === '=') zoomAt(HEAD + plotH() / 2, 0.7);
    else if (e.key === '-') zoomAt(HEAD + plotH() / 2, 1 / 0.7);
    else if (e.key === 'ArrowDown' || e.key === 'PageDown') { view.t0 += plotH() * view.nsPerPx * (e.key === 'PageDown' ? 0.9 : 0.1); draw(); }
    else if (e.key === 'ArrowUp' || e.key === 'PageUp') { view.t0 -= plotH() * view.nsPerPx * (e.key === 'PageUp' ? 0.9 : 0.1); draw(); }
  });
  window.addEventListener('resize', function () { resize(); draw(); });
  document.getElementById('zoom-in').onclick = function () { zoomAt(HEAD + plotH() / 2, 0.7); };
  document.getElementById('zoom-out').onclick = function () { zoomAt(HEAD + plotH() / 2, 1 / 0.7); };
  document.getElementById('fit-run').onclick = function () { show(0, end); };
  document.getElementById('fit-detail').onclick = function () { show(M.detail_from_ns, M.detail_to_ns); };

  // ---- side panel ----
  function checkbox(parent, text, colour, count, on, onChange) {
    var l = document.createElement('label');
    var c = document.createElement('input'); c.type = 'checkbox'; c.checked = on;
    c.onchange = function () { onChange(c.checked); draw(); };
    l.appendChild(c);
    if (colour) { var s = document.createElement('span'); s.className = 'swatch'; s.style.background = colour; l.appendChild(s); }
    l.appendChild(document.createTextNode(text));
    if (count !== null) { var n = document.createElement('span'); n.className = 'n'; n.textContent = count; l.appendChild(n); }
    parent.appendChild(l);
    return c;
  }
  function panel() {
    document.getElementById('name').textContent = M.name || 'distsim run';
    var outcome = M.outcome ? '<span class="' + (M.end_violation ? 'fail' : 'pass') + '">' +
      esc(M.end_violation ? 'violation' : M.outcome) + '</span>' : 'no closing line';
    document.getElementById('summary').innerHTML = esc(M.protocol) + ' · seed ' + M.seed + ' · ' + M.servers +
      ' servers, ' + M.clients + ' clients · ' + fmtT(end, 0) + ' · ' + outcome +
      (M.end_reason ? ' (' + esc(M.end_reason) + ')' : '');
    var perKind = D.kinds.map(function () { return 0; });
    D.msgs.forEach(function (m) { perKind[m[3]]++; });
    var kinds = document.getElementById('kinds');
    D.kinds.forEach(function (k, i) {
      checkbox(kinds, k, colourOfKind(i), perKind[i], true, function (on) { hiddenKinds[i] = !on; });
    });
    var nodes = document.getElementById('nodes');
    lanes.forEach(function (l) {
      checkbox(nodes, l.label + (l.client ? ' (client)' : ''), null, null, true, function (on) { hiddenNodes[l.id] = !on; });
    });
    var ls = document.getElementById('layers');
    [['faults', 'fault bands'], ['roles', 'roles on lanes'], ['notes', 'notes and decisions'], ['timers', 'timers'],
      ['ops', 'client operations'], ['density', 'density outside the details']].forEach(function (p) {
      checkbox(ls, p[1], null, null, true, function (on) { layers[p[0]] = on; });
    });
    var key = document.getElementById('key');
    var rows = [
      ['<svg width="30" height="10"><line x1="0" y1="5" x2="24" y2="5" stroke="#555" stroke-width="1.5"/><path d="M30 5 L22 1 L22 9 Z" fill="#555"/></svg>', 'delivered message'],
      ['<svg width="30" height="10"><line x1="0" y1="5" x2="22" y2="5" stroke="#555" stroke-width="1.5"/><path d="M19 1 L27 9 M27 1 L19 9" stroke="#c0262d" stroke-width="2"/></svg>', 'dropped message'],
      ['<svg width="30" height="10"><line x1="0" y1="5" x2="30" y2="5" stroke="#555" stroke-dasharray="5 3" stroke-width="1.5"/></svg>', 'duplicate copy (marked 2)'],
      ['<svg width="30" height="10"><line x1="0" y1="5" x2="30" y2="5" stroke="#555" stroke-dasharray="2 3" stroke-width="1.5"/></svg>', 'still in flight at the end'],
      ['<span class="swatch" style="background:#d4a017;height:6px"></span>', 'leader (thick lane)'],
      ['<span class="swatch" style="background:#ff7f0e"></span>', 'candidate'],
      ['<span class="swatch" style="background:repeating-linear-gradient(90deg,#d62728 0 3px,transparent 3px 6px)"></span>', 'down (no role)'],
      ['<span class="swatch" style="background:#f2a33a;opacity:.5;height:10px"></span>', 'partition / isolation'],
      ['<span class="swatch" style="background:#d62728;opacity:.4;height:10px"></span>', 'crash'],
      ['<span class="swatch" style="background:#7f7f7f;opacity:.4;height:10px"></span>', 'pause'],
      ['<span class="swatch" style="background:#9b3fd1;opacity:.4;height:10px"></span>', 'Byzantine'],
      ['<span class="swatch" style="background:#1f9bd1"></span>', 'clock jump (dashed line)'],
      ['<span class="swatch" style="background:#2ca02c;width:5px;height:12px"></span>', 'client op: ok'],
      ['<span class="swatch" style="background:#d62728;width:5px;height:12px"></span>', 'client op: fail'],
      ['<span class="swatch" style="background:#f0a020;width:5px;height:12px"></span>', 'client op: unknown (timeout)'],
      ['<svg width="30" height="10"><circle cx="15" cy="5" r="3" fill="#2d3748"/></svg>', 'note / decision'],
      ['<svg width="30" height="10"><circle cx="15" cy="5" r="3.5" fill="none" stroke="#6b7280"/></svg>', 'timer fired']
    ];
    key.innerHTML = rows.map(function (r) { return '<div>' + r[0] + '<span>' + r[1] + '</span></div>'; }).join('');
    var left = M.detail_items_left_out ? ' The budget left out ' + M.detail_items_left_out + ' more in the window.' : '';
    document.getElementById('bounds').innerHTML =
      'Drawn one by one: ' + M.detail_items + ' events (bound ' + M.detail_items_max + ') between ' +
      fmtT(M.detail_from_ns) + ' and ' + fmtT(M.detail_to_ns) + '.' + esc(left) +
      ' Elsewhere: message density per lane in ' + D.agg.drops.length + ' slices of ' + fmtT(D.agg.bucket_ns) +
      '. Pick another window with <code>distsim view --from-ms A --to-ms B</code>.' +
      (M.capped ? ' Some faults or role changes were past their caps and are not shown.' : '') +
      (M.events_off_lanes ? ' ' + M.events_off_lanes + ' events on nodes past the lane bound are not drawn.' : '') +
      '<br>' + M.lines + ' trace lines.';
    var v = D.violation;
    if (v || M.end_violation) {
      var box = document.getElementById('violation-box');
      box.hidden = false;
      box.innerHTML = '<b>Violation' + (v ? ': ' + esc(v.checker) : '') + '</b><div id="violation-text">' +
        esc(v ? v.message : M.end_violation) + '</div>' +
        (v ? '<div>event ' + v.e + ' at ' + fmtT(v.t) + (v.node !== null ? ' on ' + esc(label(v.node)) : '') +
        '</div><button id="violation-show">show it</button>' : '');
      if (v) {
        var go = function () { centreOn(v.t, plotH() * view.nsPerPx); };
        document.getElementById('violation-show').onclick = go;
        var top = document.getElementById('goto-violation');
        top.hidden = false; top.onclick = go;
      }
    }
  }

  panel();
  resize();
  initialView();
  // A link may also open the card of one message: #...&hover=msg:N (N indexes the embedded messages).
  var hv = /hover=msg:([0-9]+)/.exec(location.hash);
  if (hv) {
    var target = D.msgs[Number(hv[1])];
    hits.forEach(function (h) {
      if (h.kind !== 'msg' || h.m !== target) return;
      var r = cv.getBoundingClientRect();
      cv.dispatchEvent(new PointerEvent('pointermove', {
        clientX: r.left + h.ax + (h.bx - h.ax) * 0.3, clientY: r.top + h.ay + (h.by - h.ay) * 0.3 }));
    });
  }
  document.body.setAttribute('data-ready', '1');
})();
