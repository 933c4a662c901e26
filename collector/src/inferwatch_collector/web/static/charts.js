/*
 * inferwatch charts: time series, bars, heatmaps, stat tiles and tables drawn as SVG (tables
 * as HTML) from one report's JSON, the `ReportResult.as_json()` of the service's API.
 * Self-contained: no library, no network access, no global state but `InferwatchCharts`, so
 * a static HTML report can inline this file as it is.
 *
 *   InferwatchCharts.render(container, report, {
 *     thresholds: [{value: 0.8, label: "fraud-f1-low (< 0.8)", metric: "f1"}],
 *     markers: [{time: "2026-11-27T09:00:00.000Z", label: "firing", state: "firing", metric: "f1"}],
 *     linkFor: function (record) { return "/models/fraud?window_start=" + record.time; },
 *   });
 *
 * `record` is one result row as {column: value}. A threshold or marker with a `metric` is
 * drawn only on a chart with a series of that metric ("f1", or "f1 · 2" per version).
 * Times are ISO 8601 UTC text and are shown in UTC. An empty report draws a "No data" text;
 * the container gets data-empty="true" then.
 */
(function (root) {
  "use strict";

  var COLORS = ["#2f6fde", "#e8743b", "#19a979", "#945ecf", "#ed4a7b", "#13a4b4", "#6c8893",
    "#d9a300", "#525df4", "#bf399e"];
  var STATE_COLORS = { firing: "#d93025", resolved: "#188038", pending: "#e37400",
    no_data: "#80868b", inactive: "#80868b", ok: "#188038" };
  var FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';
  var HEIGHT = 240;
  var MAX_TABLE_ROWS = 500;
  var MINUTE = 60e3, HOUR = 3600e3, DAY = 864e5;
  var TIME_STEPS = [MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR,
    6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY];

  // --- text and numbers ---------------------------------------------------------------------

  function esc(value) {
    return String(value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function formatTime(ms, style) {
    var d = new Date(ms);
    var date = d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate());
    var time = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
    if (style === "date") return date.slice(5);
    if (style === "time") return time;
    if (style === "short") return date.slice(5) + " " + time;
    if (style === "seconds") return date + " " + time + ":" + pad(d.getUTCSeconds());
    return date + " " + time;
  }

  function formatNumber(v, unit) {
    if (v === null || v === undefined || (typeof v === "number" && !isFinite(v))) return "–";
    if (typeof v !== "number") return String(v);
    var a = Math.abs(v), text;
    if (Number.isInteger(v)) text = v.toLocaleString("en-US");
    else if (a >= 1000) text = Math.round(v).toLocaleString("en-US");
    else if (a >= 100) text = v.toFixed(1);
    else if (a >= 1) text = v.toFixed(2);
    else if (a >= 0.001) text = v.toFixed(3);
    else text = v.toExponential(2);
    return unit ? text + " " + unit : text;
  }

  function textWidth(text, size) { return String(text).length * (size || 11) * 0.6; }

  function shorten(text, width, size) {
    text = String(text);
    var fits = Math.max(1, Math.floor(width / ((size || 11) * 0.6)));
    return text.length <= fits ? text : text.slice(0, Math.max(1, fits - 1)) + "…";
  }

  // --- the report's rows --------------------------------------------------------------------

  function records(report) {
    var columns = report.columns || [];
    return (report.rows || []).map(function (row) {
      var record = {};
      columns.forEach(function (name, i) { record[name] = row[i]; });
      return record;
    });
  }

  function typeOf(report, column) {
    var i = (report.columns || []).indexOf(column);
    return i >= 0 && report.types ? String(report.types[i] || "") : "";
  }

  function isTimeType(type) { return /^(Nullable\()?(LowCardinality\()?Date/.test(type); }

  function isNumberType(type) {
    return /^(Nullable\()?(U?Int|Float|Decimal)/.test(type);
  }

  function toTime(value) {
    if (typeof value === "number") return value;
    if (typeof value !== "string" || !value) return NaN;
    var text = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : value.replace(" ", "T") + "Z";
    return Date.parse(text);
  }

  function toNumber(value) {
    if (value === null || value === undefined || value === "") return null;
    var n = typeof value === "number" ? value : Number(value);
    return isFinite(n) ? n : null;
  }

  /** The column playing `role`: the header's choice, else the first of `fallbacks` present. */
  function column(report, role, fallbacks) {
    var columns = report.columns || [], roles = report.roles || {};
    if (roles[role] && columns.indexOf(roles[role]) >= 0) return roles[role];
    for (var i = 0; i < (fallbacks || []).length; i++) {
      if (columns.indexOf(fallbacks[i]) >= 0) return fallbacks[i];
    }
    return null;
  }

  function firstColumn(report, test, except) {
    var columns = report.columns || [];
    for (var i = 0; i < columns.length; i++) {
      if (except.indexOf(columns[i]) < 0 && test(typeOf(report, columns[i]))) return columns[i];
    }
    return null;
  }

  function metricOf(series) { return String(series).split(" · ")[0]; }

  function matchesSeries(metric, names) {
    if (!metric) return true;
    return names.some(function (name) { return name === metric || metricOf(name) === metric; });
  }

  /** The threshold lines of a chart: the options' (rules), plus the report's own number. */
  function thresholdsFor(report, options, names) {
    var found = (options.thresholds || []).filter(function (t) {
      return toNumber(t.value) !== null && matchesSeries(t.metric, names);
    });
    var own = report.threshold;
    if (typeof own === "string" && report.parameters && own in report.parameters) {
      own = report.parameters[own];
    }
    if (toNumber(own) !== null) found.push({ value: toNumber(own), label: "threshold" });
    return found;
  }

  // --- scales -------------------------------------------------------------------------------

  function niceStep(raw) {
    var power = Math.pow(10, Math.floor(Math.log10(raw)));
    var f = raw / power;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
  }

  function linearScale(lo, hi, count, whole) {
    if (!isFinite(lo) || !isFinite(hi)) { lo = 0; hi = 1; }
    if (hi - lo < 1e-12) {
      var margin = Math.abs(lo) * 0.1 || 1;
      lo -= margin; hi += margin;
    }
    var step = niceStep((hi - lo) / count);
    if (whole) step = Math.max(1, step);
    var start = Math.floor(lo / step + 1e-9) * step, end = Math.ceil(hi / step - 1e-9) * step;
    var ticks = [];
    for (var v = start; v <= end + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
    return { lo: start, hi: end, ticks: ticks, step: step };
  }

  function timeTicks(lo, hi, width) {
    var most = Math.max(2, Math.floor(width / 90)), step = TIME_STEPS[TIME_STEPS.length - 1];
    for (var i = 0; i < TIME_STEPS.length; i++) {
      if ((hi - lo) / TIME_STEPS[i] <= most) { step = TIME_STEPS[i]; break; }
    }
    var style = step >= DAY ? "date" : hi - lo > DAY ? "short" : "time";
    var ticks = [];
    for (var t = Math.ceil(lo / step) * step; t <= hi; t += step) ticks.push(t);
    return { ticks: ticks, style: style };
  }

  // --- shared drawing -----------------------------------------------------------------------

  function svgOpen(width, height, kind) {
    return '<svg class="iw-svg iw-svg-' + kind + '" viewBox="0 0 ' + width + " " + height +
      '" width="100%" preserveAspectRatio="xMinYMin meet" role="img" ' + FONT +
      ' font-size="11" fill="#3c4043">';
  }

  function legend(names, colors, width, top) {
    var x = 0, y = top, parts = [];
    names.forEach(function (name, i) {
      var w = 16 + textWidth(name) + 14;
      if (x > 0 && x + w > width) { x = 0; y += 16; }
      parts.push('<rect x="' + x + '" y="' + (y - 8) + '" width="10" height="10" rx="2" fill="' +
        colors[i % colors.length] + '"/><text x="' + (x + 14) + '" y="' + y + '">' +
        esc(name) + "</text>");
      x += w;
    });
    return { markup: parts.join(""), height: names.length ? y - top + 18 : 0 };
  }

  function tickText(v, step) {
    var decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
    return Math.abs(v) >= 1000 ? formatNumber(v) : v.toFixed(decimals);
  }

  function yAxis(scale, y, left, right, unit) {
    var parts = scale.ticks.map(function (v) {
      var py = y(v).toFixed(1);
      return '<line x1="' + left + '" x2="' + right + '" y1="' + py + '" y2="' + py +
        '" stroke="#e8eaed"/><text x="' + (left - 6) + '" y="' + py +
        '" dy="0.32em" text-anchor="end">' + esc(tickText(v, scale.step)) + "</text>";
    });
    if (unit) {
      parts.push('<text x="' + (left - 6) + '" y="' + (y(scale.hi) - 10) +
        '" text-anchor="end" fill="#5f6368">' + esc(unit) + "</text>");
    }
    return parts.join("");
  }

  function xTimeAxis(x0, x1, x, bottom, width) {
    var axis = timeTicks(x0, x1, width);
    return axis.ticks.map(function (t) {
      return '<text x="' + x(t).toFixed(1) + '" y="' + (bottom + 16) +
        '" text-anchor="middle">' + esc(formatTime(t, axis.style)) + "</text>";
    }).join("") + '<line x1="' + x(x0) + '" x2="' + x(x1) + '" y1="' + bottom + '" y2="' +
      bottom + '" stroke="#9aa0a6"/>';
  }

  function thresholdLines(lines, y, left, right) {
    return lines.map(function (t) {
      var py = y(toNumber(t.value)).toFixed(1);
      return '<g class="iw-threshold"><line x1="' + left + '" x2="' + right + '" y1="' + py +
        '" y2="' + py + '" stroke="#d93025" stroke-width="1.5" stroke-dasharray="6 4"/>' +
        '<text x="' + (right - 4) + '" y="' + (py - 4) + '" text-anchor="end" fill="#d93025">' +
        esc(t.label || "threshold") + "</text><title>" + esc(t.label || "threshold") + ": " +
        esc(formatNumber(toNumber(t.value))) + "</title></g>";
    }).join("");
  }

  function markerLines(markers, x, x0, x1, top, bottom) {
    return markers.map(function (m) {
      var t = toTime(m.time);
      if (!(t >= x0 && t <= x1)) return "";
      var px = x(t).toFixed(1), color = STATE_COLORS[m.state] || "#5f6368";
      return '<g class="iw-marker"><line x1="' + px + '" x2="' + px + '" y1="' + top +
        '" y2="' + bottom + '" stroke="' + color + '" stroke-width="1.5" stroke-dasharray="2 3"/>' +
        '<path d="M' + px + " " + top + "l-5 -7h10z" + '" fill="' + color + '"/><title>' +
        esc(formatTime(t) + " UTC · " + (m.label || m.state || "")) + "</title></g>";
    }).join("");
  }

  function noData(container, width, message) {
    container.setAttribute("data-empty", "true");
    container.innerHTML = svgOpen(width, 60, "empty") + '<text class="iw-nodata" x="' +
      width / 2 + '" y="34" text-anchor="middle" fill="#80868b">' +
      esc(message || "No data in this range") + "</text></svg>";
  }

  // --- tooltip ------------------------------------------------------------------------------

  function tooltip(container) {
    var tip = document.createElement("div");
    tip.className = "iw-tooltip";
    var s = tip.style;
    s.position = "absolute"; s.pointerEvents = "none"; s.display = "none"; s.zIndex = "10";
    s.background = "rgba(32,33,36,0.92)"; s.color = "#fff"; s.padding = "6px 8px";
    s.borderRadius = "4px"; s.font = "12px system-ui, sans-serif"; s.whiteSpace = "nowrap";
    container.appendChild(tip);
    return {
      show: function (lines, clientX, clientY) {
        tip.innerHTML = lines.join("<br>");
        tip.style.display = "block";
        var box = container.getBoundingClientRect();
        var left = clientX - box.left + 12, top = clientY - box.top + 12;
        if (left + tip.offsetWidth > box.width) left = Math.max(0, clientX - box.left - tip.offsetWidth - 12);
        tip.style.left = left + "px";
        tip.style.top = top + "px";
      },
      hide: function () { tip.style.display = "none"; },
    };
  }

  /** The SVG x of a mouse event, in viewBox units. */
  function svgX(svg, width, event) {
    var box = svg.getBoundingClientRect();
    return box.width ? (event.clientX - box.left) * width / box.width : 0;
  }

  function nearest(sorted, value) {
    var lo = 0, hi = sorted.length - 1;
    if (hi < 0) return -1;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (sorted[mid] < value) lo = mid + 1; else hi = mid;
    }
    if (lo > 0 && Math.abs(sorted[lo - 1] - value) <= Math.abs(sorted[lo] - value)) lo -= 1;
    return lo;
  }

  function swatch(color) {
    return '<svg width="10" height="10" class="iw-swatch"><rect width="10" height="10" rx="2" fill="' +
      color + '"/></svg> ';
  }

  function extent(values) {
    var lo = Infinity, hi = -Infinity;
    for (var i = 0; i < values.length; i++) {
      if (values[i] < lo) lo = values[i];
      if (values[i] > hi) hi = values[i];
    }
    return [lo, hi];
  }

  /** Hover (tooltip, guide line) and click (linkFor) over a chart's plot area. */
  function interact(container, width, lookup, options) {
    var svg = container.querySelector("svg");
    var guide = container.querySelector(".iw-guide");
    var hit = container.querySelector(".iw-hit");
    if (!svg || !hit) return;
    var tip = tooltip(container);
    var current = null;
    hit.addEventListener("mousemove", function (event) {
      current = lookup(svgX(svg, width, event));
      if (!current) { tip.hide(); return; }
      if (guide) {
        guide.setAttribute("x1", current.x); guide.setAttribute("x2", current.x);
        guide.setAttribute("visibility", "visible");
      }
      tip.show(current.lines, event.clientX, event.clientY);
    });
    hit.addEventListener("mouseleave", function () {
      tip.hide(); current = null;
      if (guide) guide.setAttribute("visibility", "hidden");
    });
    if (typeof options.linkFor === "function") {
      hit.setAttribute("cursor", "pointer");
      hit.addEventListener("click", function () {
        var url = current && current.record ? options.linkFor(current.record) : null;
        if (url) root.location.assign(url);
      });
    }
  }

  // --- time series --------------------------------------------------------------------------

  function groupSeries(report, roles) {
    var groups = new Map();
    records(report).forEach(function (record) {
      var t = toTime(record[roles.x]);
      if (!isFinite(t)) return;
      var name = roles.series ? String(record[roles.series]) : report.title || roles.value;
      if (!groups.has(name)) groups.set(name, []);
      groups.get(name).push({
        t: t, v: toNumber(record[roles.value]),
        lo: roles.low ? toNumber(record[roles.low]) : null,
        hi: roles.high ? toNumber(record[roles.high]) : null,
        record: record,
      });
    });
    groups.forEach(function (points) { points.sort(function (a, b) { return a.t - b.t; }); });
    return groups;
  }

  /** The gap past which two points are not joined: 2.5 times the usual step. */
  function gapLimit(points) {
    var steps = [];
    for (var i = 1; i < points.length; i++) steps.push(points[i].t - points[i - 1].t);
    if (!steps.length) return Infinity;
    steps.sort(function (a, b) { return a - b; });
    return steps[Math.floor(steps.length / 2)] * 2.5;
  }

  function linePath(points, x, y, limit) {
    var d = "", previous = null;
    points.forEach(function (p) {
      if (p.v === null) { previous = null; return; }
      var join = previous && p.t - previous.t <= limit;
      d += (join ? "L" : "M") + x(p.t).toFixed(1) + " " + y(p.v).toFixed(1);
      previous = p;
    });
    return d;
  }

  function bandPath(points, x, y, limit) {
    var d = "", run = [];
    function flush() {
      if (run.length > 1) {
        d += "M" + run.map(function (p) { return x(p.t).toFixed(1) + " " + y(p.hi).toFixed(1); })
          .join("L") + "L" + run.slice().reverse().map(function (p) {
          return x(p.t).toFixed(1) + " " + y(p.lo).toFixed(1);
        }).join("L") + "Z";
      }
      run = [];
    }
    points.forEach(function (p) {
      if (p.lo === null || p.hi === null) { flush(); return; }
      if (run.length && p.t - run[run.length - 1].t > limit) flush();
      run.push(p);
    });
    flush();
    return d;
  }

  function timeDomain(report, groups) {
    var lo = Infinity, hi = -Infinity;
    groups.forEach(function (points) {
      points.forEach(function (p) { lo = Math.min(lo, p.t); hi = Math.max(hi, p.t); });
    });
    var p = report.parameters || {};
    var from = toTime(p.from), to = toTime(p.to);
    if (isFinite(from) && from < lo) lo = from;
    if (isFinite(to) && to > hi) hi = to;
    if (!(hi > lo)) { lo -= 30 * MINUTE; hi += 30 * MINUTE; }
    return [lo, hi];
  }

  function renderTimeseries(container, report, options, width) {
    var roles = { x: column(report, "x", ["time", "window_start"]) };
    if (!roles.x) roles.x = firstColumn(report, isTimeType, []);
    roles.value = column(report, "value", ["value"]) || column(report, "y", []) ||
      firstColumn(report, isNumberType, [roles.x]);
    roles.series = column(report, "series", []);
    roles.low = column(report, "low", []);
    roles.high = column(report, "high", []);
    var groups = groupSeries(report, roles);
    if (!groups.size) return noData(container, width);
    var names = Array.from(groups.keys());
    var lines = thresholdsFor(report, options, names);
    var markers = (options.markers || []).filter(function (m) { return matchesSeries(m.metric, names); });
    var values = [];
    groups.forEach(function (points) {
      points.forEach(function (p) { [p.v, p.lo, p.hi].forEach(function (v) { if (v !== null) values.push(v); }); });
    });
    lines.forEach(function (t) { values.push(toNumber(t.value)); });
    var range = extent(values);
    var scale = linearScale(range[0], range[1], 5);
    var key = legend(names, COLORS, width - 60, 12);
    var height = options.height || HEIGHT;
    var top = 14 + key.height, left = 56, right = width - 14, bottom = height - 26;
    var domain = timeDomain(report, groups);
    var x = function (t) { return left + (t - domain[0]) / (domain[1] - domain[0]) * (right - left); };
    var y = function (v) { return bottom - (v - scale.lo) / (scale.hi - scale.lo) * (bottom - top); };
    var parts = [svgOpen(width, height, "timeseries"), '<g transform="translate(56 0)">',
      key.markup, "</g>", yAxis(scale, y, left, right, report.unit),
      xTimeAxis(domain[0], domain[1], x, bottom, right - left)];
    var total = 0;
    groups.forEach(function (points) { total += points.length; });
    names.forEach(function (name, i) {
      var points = groups.get(name), color = COLORS[i % COLORS.length], limit = gapLimit(points);
      var band = names.length <= 4 ? bandPath(points, x, y, limit) : "";
      if (band) parts.push('<path class="iw-band" d="' + band + '" fill="' + color + '" fill-opacity="0.12"/>');
      var d = linePath(points, x, y, limit);
      if (d) parts.push('<path class="iw-line" d="' + d + '" fill="none" stroke="' + color + '" stroke-width="1.8" stroke-linejoin="round"/>');
      points.forEach(function (p, j) {
        var alone = (j === 0 || points[j - 1].v === null || p.t - points[j - 1].t > limit) &&
          (j === points.length - 1 || points[j + 1].v === null || points[j + 1].t - p.t > limit);
        if (p.v !== null && (alone || total <= 240)) {
          parts.push('<circle class="iw-point" cx="' + x(p.t).toFixed(1) + '" cy="' +
            y(p.v).toFixed(1) + '" r="2.6" fill="' + color + '"/>');
        }
      });
    });
    parts.push('<line class="iw-guide" x1="0" x2="0" y1="' + top + '" y2="' + bottom +
      '" stroke="#5f6368" visibility="hidden"/>');
    parts.push('<rect class="iw-hit" x="' + left + '" y="' + top + '" width="' + (right - left) +
      '" height="' + (bottom - top) + '" fill="none" pointer-events="all"/>');
    // Above the hover area, so that their own titles show when pointed at.
    parts.push(thresholdLines(lines, y, left, right));
    parts.push(markerLines(markers, x, domain[0], domain[1], top, bottom) + "</svg>");
    container.innerHTML = parts.join("");
    var times = [], byTime = new Map();
    names.forEach(function (name, i) {
      groups.get(name).forEach(function (p) {
        if (!byTime.has(p.t)) { byTime.set(p.t, []); times.push(p.t); }
        byTime.get(p.t).push({ name: name, color: COLORS[i % COLORS.length], p: p });
      });
    });
    times.sort(function (a, b) { return a - b; });
    var unit = report.unit;
    interact(container, width, function (px) {
      var i = nearest(times, domain[0] + (px - left) / (right - left) * (domain[1] - domain[0]));
      if (i < 0) return null;
      var found = byTime.get(times[i]);
      var lines = [esc(formatTime(times[i]) + " UTC")].concat(found.map(function (f) {
        var ci = f.p.lo !== null && f.p.hi !== null ?
          " [" + formatNumber(f.p.lo) + ", " + formatNumber(f.p.hi) + "]" : "";
        return swatch(f.color) + esc(f.name + ": " + formatNumber(f.p.v, unit) + ci);
      }));
      return { x: x(times[i]), lines: lines, record: found[0].p.record };
    }, options);
  }

  // --- bars ---------------------------------------------------------------------------------

  function renderBar(container, report, options, width) {
    var xCol = column(report, "x", []) || (report.columns || [])[0];
    var vCol = column(report, "value", ["value", "count"]) || column(report, "y", []) ||
      firstColumn(report, isNumberType, [xCol]);
    var sCol = column(report, "series", []);
    var rows = records(report);
    if (!rows.length || !xCol || !vCol) return noData(container, width);
    var timed = isTimeType(typeOf(report, xCol));
    var keys = [], stacks = new Map(), names = [];
    rows.forEach(function (record) {
      var key = timed ? toTime(record[xCol]) : String(record[xCol]);
      if (timed && !isFinite(key)) return;
      var name = sCol ? String(record[sCol]) : vCol;
      if (names.indexOf(name) < 0) names.push(name);
      if (!stacks.has(key)) { stacks.set(key, []); keys.push(key); }
      stacks.get(key).push({ name: name, v: toNumber(record[vCol]) || 0, record: record });
    });
    if (timed) keys.sort(function (a, b) { return a - b; });
    var totals = keys.map(function (k) {
      return stacks.get(k).reduce(function (sum, s) { return sum + Math.max(0, s.v); }, 0);
    });
    var whole = totals.every(function (v) { return Number.isInteger(v); });
    var scale = linearScale(0, Math.max(0, extent(totals)[1]), 5, whole);
    var key = sCol ? legend(names, COLORS, width - 60, 12) : { markup: "", height: 0 };
    var height = options.height || HEIGHT;
    var top = 14 + key.height, left = 56, right = width - 14, bottom = height - (timed ? 26 : 40);
    var y = function (v) { return bottom - (v - scale.lo) / (scale.hi - scale.lo) * (bottom - top); };
    var center, barWidth, domain;
    if (timed) {
      var fake = new Map([["all", keys.map(function (t) { return { t: t }; })]]);
      domain = timeDomain(report, fake);
      var step = Infinity;
      for (var i = 1; i < keys.length; i++) step = Math.min(step, keys[i] - keys[i - 1]);
      var span = domain[1] - domain[0];
      barWidth = Math.max(1, Math.min(40, (isFinite(step) ? step / span : 0.05) * (right - left) * 0.8));
      center = function (k) { return left + (k - domain[0]) / span * (right - left); };
    } else {
      var band = (right - left) / keys.length;
      barWidth = Math.max(1, Math.min(60, band * 0.7));
      center = function (k) { return left + (keys.indexOf(k) + 0.5) * band; };
    }
    var paths = names.map(function () { return ""; });
    keys.forEach(function (k) {
      var base = 0, cx = center(k);
      stacks.get(k).forEach(function (s) {
        if (s.v <= 0) return;
        var y1 = y(base + s.v), y0 = y(base);
        paths[names.indexOf(s.name)] += "M" + (cx - barWidth / 2).toFixed(1) + " " + y0.toFixed(1) +
          "V" + y1.toFixed(1) + "h" + barWidth.toFixed(1) + "V" + y0.toFixed(1) + "Z";
        base += s.v;
      });
    });
    var parts = [svgOpen(width, height, "bar"), '<g transform="translate(56 0)">', key.markup,
      "</g>", yAxis(scale, y, left, right, report.unit)];
    if (timed) parts.push(xTimeAxis(domain[0], domain[1], center, bottom, right - left));
    else {
      var bandWidth = (right - left) / keys.length;
      keys.forEach(function (k) {
        parts.push('<text x="' + center(k).toFixed(1) + '" y="' + (bottom + 16) +
          '" text-anchor="middle">' + esc(shorten(k, bandWidth - 4)) + "<title>" + esc(k) +
          "</title></text>");
      });
      parts.push('<line x1="' + left + '" x2="' + right + '" y1="' + bottom + '" y2="' + bottom + '" stroke="#9aa0a6"/>');
    }
    paths.forEach(function (d, i) {
      parts.push('<path class="iw-bar" d="' + (d || "M0 0") + '" fill="' + COLORS[i % COLORS.length] + '"/>');
    });
    parts.push('<line class="iw-guide" x1="0" x2="0" y1="' + top + '" y2="' + bottom +
      '" stroke="#5f6368" stroke-opacity="0.4" visibility="hidden"/>');
    parts.push('<rect class="iw-hit" x="' + left + '" y="' + top + '" width="' + (right - left) +
      '" height="' + (bottom - top) + '" fill="none" pointer-events="all"/></svg>');
    container.innerHTML = parts.join("");
    var positions = keys.map(center);
    interact(container, width, function (px) {
      var i = nearest(positions, px);
      if (i < 0) return null;
      var stack = stacks.get(keys[i]);
      var title = timed ? formatTime(keys[i]) + " UTC" : String(keys[i]);
      var lines = [esc(title)].concat(stack.map(function (s) {
        return swatch(COLORS[names.indexOf(s.name) % COLORS.length]) +
          esc((sCol ? s.name + ": " : "") + formatNumber(s.v, report.unit));
      }));
      return { x: positions[i], lines: lines, record: stack[0].record };
    }, options);
  }

  // --- heatmap ------------------------------------------------------------------------------

  function categories(values) {
    var unique = values.filter(function (v, i) { return values.indexOf(v) === i; });
    var numeric = unique.every(function (v) { return v !== "" && isFinite(Number(v)); });
    return unique.sort(function (a, b) { return numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0; });
  }

  function renderHeatmap(container, report, options, width) {
    var xCol = column(report, "x", ["predicted"]), yCol = column(report, "y", ["actual"]);
    var vCol = column(report, "value", ["count", "value"]);
    var rows = records(report);
    if (!rows.length || !xCol || !yCol || !vCol) return noData(container, width);
    var xs = rows.map(function (r) { return String(r[xCol]); });
    var ys = rows.map(function (r) { return String(r[yCol]); });
    var cols = categories(xs), lines = categories(ys);
    var shared = cols.every(function (c) { return lines.indexOf(c) >= 0; }) ||
      lines.every(function (c) { return cols.indexOf(c) >= 0; });
    if (shared) { cols = categories(xs.concat(ys)); lines = cols; }
    var cells = new Map(), max = 0;
    rows.forEach(function (r) {
      var v = toNumber(r[vCol]) || 0;
      cells.set(String(r[yCol]) + "\u0000" + String(r[xCol]), { v: v, record: r });
      max = Math.max(max, v);
    });
    var labelWidth = Math.min(140, 24 + extent(lines.map(function (c) { return textWidth(c); }))[1]);
    var left = labelWidth + 20, top = 44;
    var cell = Math.max(14, Math.min(72, (width - left - 10) / cols.length, 360 / lines.length));
    var height = top + cell * lines.length + 12;
    var showText = cell >= 26;
    var parts = [svgOpen(width, height, "heatmap"),
      '<text x="' + (left + cell * cols.length / 2) + '" y="14" text-anchor="middle" fill="#5f6368">' +
      esc(xCol) + " →</text>",
      '<text transform="translate(12 ' + (top + cell * lines.length / 2) + ') rotate(-90)" text-anchor="middle" fill="#5f6368">' +
      esc(yCol) + " →</text>"];
    cols.forEach(function (c, i) {
      parts.push('<text x="' + (left + (i + 0.5) * cell).toFixed(1) + '" y="' + (top - 8) +
        '" text-anchor="middle">' + esc(shorten(c, cell - 2)) + "<title>" + esc(c) + "</title></text>");
    });
    lines.forEach(function (row, j) {
      var cy = top + j * cell;
      parts.push('<text x="' + (left - 6) + '" y="' + (cy + cell / 2).toFixed(1) +
        '" dy="0.32em" text-anchor="end">' + esc(shorten(row, labelWidth - 8)) + "<title>" + esc(row) + "</title></text>");
      cols.forEach(function (c, i) {
        var found = cells.get(row + "\u0000" + c), v = found ? found.v : 0;
        var level = max > 0 ? Math.sqrt(v / max) : 0;
        var fill = "rgb(" + Math.round(241 - level * 215) + "," + Math.round(245 - level * 159) +
          "," + Math.round(254 - level * 58) + ")";
        var cx = left + i * cell;
        parts.push('<g class="iw-cell" data-index="' + rows.indexOf(found ? found.record : null) +
          '"><rect x="' + cx.toFixed(1) + '" y="' + cy.toFixed(1) + '" width="' + (cell - 2).toFixed(1) +
          '" height="' + (cell - 2).toFixed(1) + '" rx="2" fill="' + fill + '"' +
          (row === c && shared ? ' stroke="#19a979" stroke-width="1.5"' : "") + "/>" +
          (showText ? '<text x="' + (cx + cell / 2 - 1).toFixed(1) + '" y="' + (cy + cell / 2).toFixed(1) +
            '" dy="0.32em" text-anchor="middle" fill="' + (level > 0.55 ? "#fff" : "#202124") + '">' +
            esc(formatNumber(v)) + "</text>" : "") +
          "<title>" + esc(yCol + " " + row + ", " + xCol + " " + c + ": " + formatNumber(v, report.unit)) +
          "</title></g>");
      });
    });
    parts.push("</svg>");
    container.innerHTML = parts.join("");
    if (typeof options.linkFor === "function") {
      Array.prototype.forEach.call(container.querySelectorAll(".iw-cell"), function (g) {
        var record = rows[Number(g.getAttribute("data-index"))];
        var url = record ? options.linkFor(record) : null;
        if (!url) return;
        g.setAttribute("cursor", "pointer");
        g.addEventListener("click", function () { root.location.assign(url); });
      });
    }
  }

  // --- stat tiles ---------------------------------------------------------------------------

  function label(name) { return String(name).replace(/_/g, " "); }

  function unitOf(name, report) {
    if (/_ms$/.test(name)) return "ms";
    return report.roles && report.roles.value === name ? report.unit : "";
  }

  function renderStat(container, report, options, width) {
    var rows = records(report);
    if (!rows.length) return noData(container, width);
    var record = rows[0];
    var names = report.roles && report.roles.value ? [report.roles.value] : report.columns || [];
    var tileWidth = 150, gap = 10, tileHeight = 64;
    var perRow = Math.max(1, Math.floor((width + gap) / (tileWidth + gap)));
    var lines = Math.ceil(names.length / perRow);
    var height = lines * (tileHeight + gap);
    var parts = [svgOpen(width, height, "stat")];
    names.forEach(function (name, i) {
      var tx = (i % perRow) * (tileWidth + gap), ty = Math.floor(i / perRow) * (tileHeight + gap);
      var value = record[name];
      var text = typeof value === "number" || value === null ? formatNumber(toNumber(value), unitOf(name, report)) : String(value);
      parts.push('<g class="iw-tile"><rect x="' + tx + '" y="' + ty + '" width="' + tileWidth +
        '" height="' + tileHeight + '" rx="6" fill="#f8f9fa" stroke="#dadce0"/>' +
        '<text x="' + (tx + 12) + '" y="' + (ty + 20) + '" fill="#5f6368">' + esc(shorten(label(name), tileWidth - 20)) +
        '</text><text x="' + (tx + 12) + '" y="' + (ty + 50) + '" font-size="22" font-weight="600" fill="#202124">' +
        esc(shorten(text, tileWidth - 20, 22)) + "</text><title>" + esc(label(name) + ": " + text) + "</title></g>");
    });
    parts.push("</svg>");
    container.innerHTML = parts.join("");
  }

  // --- table --------------------------------------------------------------------------------

  function safeUrl(url) {
    return typeof url === "string" && /^(https?:\/\/|\/)/.test(url) && !/^\/\//.test(url) ? url : null;
  }

  function cell(report, name, value, record, options) {
    var type = typeOf(report, name), text, title = "";
    if (value === null || value === undefined) text = "–";
    else if (isTimeType(type) || (typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value))) {
      var t = toTime(value);
      text = isFinite(t) ? formatTime(t, "seconds") : String(value);
      title = String(value);
    } else if (typeof value === "number") text = formatNumber(value, unitOf(name, report));
    else if (typeof value === "object") text = JSON.stringify(value);
    else text = String(value);
    var inner = esc(text);
    if (/^(state|status|previous_state|severity)$/.test(name) && value) {
      inner = '<span class="iw-badge iw-state-' + esc(String(value).replace(/[^a-z_]/gi, "")) + '">' + inner + "</span>";
    }
    var link = null;
    if (report.link === name && typeof options.linkFor === "function") link = safeUrl(options.linkFor(record));
    else if (/_url$/.test(name)) { link = safeUrl(value); if (link) inner = "open"; }
    if (link) inner = '<a href="' + esc(link) + '"' + (title ? ' title="' + esc(title) + '"' : "") + ">" + inner + "</a>";
    var classes = typeof value === "number" ? ' class="iw-num"' : /(_id|^trace_id|^span_id)$/.test(name) ? ' class="iw-mono"' : "";
    return "<td" + classes + (title && !link ? ' title="' + esc(title) + '"' : "") + ">" + inner + "</td>";
  }

  function renderTable(container, report, options) {
    var rows = records(report), columns = report.columns || [];
    if (!rows.length) {
      container.setAttribute("data-empty", "true");
      container.innerHTML = '<p class="iw-nodata">No rows in this range</p>';
      return;
    }
    var shown = rows.slice(0, MAX_TABLE_ROWS);
    var parts = ['<div class="iw-table-wrap"><table class="iw-table"><thead><tr>'];
    columns.forEach(function (name) { parts.push("<th>" + esc(label(name)) + "</th>"); });
    parts.push("</tr></thead><tbody>");
    shown.forEach(function (record) {
      parts.push("<tr>");
      columns.forEach(function (name) { parts.push(cell(report, name, record[name], record, options)); });
      parts.push("</tr>");
    });
    parts.push("</tbody></table></div>");
    if (rows.length > shown.length) {
      parts.push('<p class="iw-note">The first ' + shown.length + " of " + rows.length + " rows.</p>");
    }
    container.innerHTML = parts.join("");
  }

  // --- entry point --------------------------------------------------------------------------

  var RENDERERS = { timeseries: renderTimeseries, bar: renderBar, heatmap: renderHeatmap,
    stat: renderStat, table: renderTable };

  /**
   * Draw `report` into `container` (its children are replaced).
   * @param {Element} container
   * @param {object} report  ReportResult.as_json(): columns, types, rows, roles, visualization…
   * @param {object} [options]  thresholds, markers, linkFor, width, height
   */
  function render(container, report, options) {
    options = options || {};
    container.innerHTML = "";
    container.classList.add("iw-chart");
    if (!container.style.position) container.style.position = "relative";
    var width = Math.round(options.width || container.clientWidth || 640);
    width = Math.max(260, width);
    if (!report) return noData(container, width, "No report");
    container.setAttribute("data-visualization", report.visualization || "table");
    container.setAttribute("data-empty", report.rows && report.rows.length ? "false" : "true");
    if (report.error) {
      container.innerHTML = '<p class="iw-error">' + esc(report.error) + "</p>";
      return;
    }
    var draw = RENDERERS[report.visualization] || renderTable;
    try {
      draw(container, report, options, width);
    } catch (error) {
      container.innerHTML = '<p class="iw-error">Cannot draw this report: ' + esc(error && error.message) + "</p>";
    }
  }

  root.InferwatchCharts = {
    render: render,
    formatNumber: formatNumber,
    formatTime: formatTime,
    records: records,
    toTime: toTime,
  };
})(typeof window !== "undefined" ? window : this);
