/*
 * The dashboard's pages: controls (time range, window size, version, segment, auto-refresh),
 * one request to /api/v1/pages/<page> per load or refresh, and a panel per report drawn by
 * InferwatchCharts (charts.js). The page's state lives in its URL, so a view can be
 * bookmarked, shared, and reopened as it was.
 *
 * The shell's <script id="iw-config"> says which page this is: {page, model, windows,
 * defaultWindow, defaultRange, rules}.
 */
(function () {
  "use strict";

  var RANGES = [["1h", "Last hour"], ["6h", "Last 6 hours"], ["1d", "Last day"],
    ["7d", "Last 7 days"], ["30d", "Last 30 days"]];
  var REFRESH = [["off", "Off"], ["30s", "30 s"], ["1m", "1 min"], ["5m", "5 min"]];
  var STATES = ["", "firing", "pending", "resolved", "no_data", "inactive"];
  var PAGE_PARAMETERS = {
    overview: ["window", "from", "to"],
    model: ["model", "version", "segment", "window", "from", "to"],
    alerts: ["model", "state", "from", "to"],
    window: ["model", "version", "segment", "window", "window_start"],
  };
  var UNITS = { s: 1e3, m: 60e3, h: 3600e3, d: 864e5, w: 6048e5 };

  var config = JSON.parse(document.getElementById("iw-config").textContent);
  var charts = window.InferwatchCharts;
  var page = config.page;
  var state = readState();
  var timer = null, sequence = 0, lastData = null;

  // --- state in the URL ---------------------------------------------------------------------

  function readState() {
    var query = new URLSearchParams(window.location.search);
    var get = function (name, fallback) { return query.has(name) ? query.get(name) : fallback; };
    return {
      from: get("from", "now-" + config.defaultRange),
      to: get("to", "now"),
      window: get("window", config.defaultWindow),
      version: get("version", ""),
      segment: get("segment", ""),
      model: page === "model" || page === "window" ? config.model : get("model", ""),
      state: get("state", ""),
      window_start: get("window_start", ""),
      refresh: get("refresh", "off"),
    };
  }

  function writeState() {
    var query = new URLSearchParams();
    var keep = ["from", "to", "refresh"].concat(PAGE_PARAMETERS[page]);
    keep.forEach(function (name) {
      if (name === "model" && (page === "model" || page === "window")) return;
      if (state[name] !== "" && query.get(name) === null) query.set(name, state[name]);
    });
    var url = window.location.pathname + "?" + query.toString();
    window.history.replaceState(null, "", url);
  }

  function apiQuery() {
    var query = new URLSearchParams();
    PAGE_PARAMETERS[page].forEach(function (name) { query.set(name, state[name]); });
    return query.toString();
  }

  // --- times --------------------------------------------------------------------------------

  function duration(text) {
    var match = /^(\d+)([smhdw])$/.exec(String(text || "").trim());
    return match ? Number(match[1]) * UNITS[match[2]] : NaN;
  }

  function relativeRange() {
    var match = /^now-(\d+[smhdw])$/.exec(state.from);
    return match && state.to === "now" ? match[1] : null;
  }

  function resolveTime(text, now) {
    if (text === "now") return now;
    var match = /^now-(\d+[smhdw])$/.exec(text);
    if (match) return now - duration(match[1]);
    return charts.toTime(text);
  }

  function isoMinute(ms) { return new Date(ms).toISOString().slice(0, 16); }

  function isoUtc(ms) { return new Date(ms).toISOString().replace(".000Z", "Z"); }

  // --- links --------------------------------------------------------------------------------

  function modelUrl(model, extra) {
    var query = new URLSearchParams();
    Object.keys(extra || {}).forEach(function (name) {
      if (extra[name] !== null && extra[name] !== undefined && extra[name] !== "") query.set(name, extra[name]);
    });
    var text = query.toString();
    return "/models/" + encodeURIComponent(model) + (text ? "?" + text : "");
  }

  function windowUrl(record) {
    var start = record.window_start || record.time;
    var model = record.model || state.model;
    if (!start || !model) return null;
    return modelUrl(model, {
      window_start: start,
      window: record.window || state.window,
      version: "version" in record ? record.version : state.version,
      segment: "segment" in record ? record.segment : state.segment,
      from: state.from, to: state.to,
    });
  }

  function linkFor(report) {
    if (report.link === "model") {
      return function (record) {
        return record.model ? modelUrl(record.model, {
          version: record.version, window: state.window, from: state.from, to: state.to,
        }) : null;
      };
    }
    if (report.link === "time" || report.link === "window_start") return windowUrl;
    return null;
  }

  // --- thresholds and markers ---------------------------------------------------------------

  function segmentMatches(ruleSegment, segment) {
    if (/=\*$/.test(ruleSegment)) return segment.indexOf(ruleSegment.slice(0, -1)) === 0;
    return ruleSegment === segment;
  }

  /** Thresholds of the rules on this model, window, version and segment ("auto": the value
   *  the rule last used, from the model's alert history). */
  function thresholds(data) {
    var history = data.model_alerts ? charts.records(data.model_alerts) : [];
    return (config.rules || []).filter(function (rule) {
      return rule.model === state.model && rule.window === state.window &&
        (rule.version === null || state.version === "" || rule.version === state.version) &&
        segmentMatches(rule.segment, state.segment);
    }).map(function (rule) {
      var value = rule.threshold;
      if (value === "auto") {
        var last = history.filter(function (row) { return row.rule === rule.name && row.threshold !== null; })[0];
        value = last ? last.threshold : null;
      }
      return { value: value, metric: rule.metric, label: rule.name + " (" + rule.op + " " + charts.formatNumber(value) + ")" };
    }).filter(function (t) { return t.value !== null; });
  }

  function markers(data) {
    if (!data.model_alerts) return [];
    return charts.records(data.model_alerts).filter(function (row) {
      return row.window === state.window && row.segment === state.segment;
    }).map(function (row) {
      return {
        time: row.window_start || row.time, state: row.state, metric: row.metric,
        label: row.rule + (row.version ? " v" + row.version : "") + ": " + row.previous_state + " → " + row.state,
      };
    });
  }

  // --- controls -----------------------------------------------------------------------------

  function element(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") node.textContent = attributes[name];
      else node.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function select(name, label, options, value) {
    var input = element("select", { name: name, id: "iw-" + name });
    options.forEach(function (option) {
      var item = element("option", { value: option[0], text: option[1] });
      if (option[0] === value) item.selected = true;
      input.appendChild(item);
    });
    return field(label, input);
  }

  function textInput(name, label, value, placeholder) {
    var input = element("input", { type: "text", name: name, id: "iw-" + name, placeholder: placeholder, size: "12" });
    input.value = value;
    return field(label, input);
  }

  function field(label, input) {
    return element("label", { class: "iw-field" }, [element("span", { text: label }), input]);
  }

  function windowOptions() {
    var windows = (config.windows || []).slice();
    if (state.window && windows.indexOf(state.window) < 0) windows.push(state.window);
    return windows.map(function (w) { return [w, w]; });
  }

  function buildControls() {
    var form = document.getElementById("iw-controls");
    form.textContent = "";
    var range = relativeRange();
    var rangeOptions = RANGES.slice();
    if (range && !rangeOptions.some(function (r) { return r[0] === range; })) rangeOptions.push([range, "Last " + range]);
    form.appendChild(select("range", "Time range", rangeOptions.concat([["custom", "Custom…"]]), range || "custom"));
    var custom = element("span", { class: "iw-custom", id: "iw-custom" });
    var now = Date.now();
    var from = element("input", { type: "datetime-local", name: "from", id: "iw-from", step: "60" });
    var to = element("input", { type: "datetime-local", name: "to", id: "iw-to", step: "60" });
    from.value = isoMinute(resolveTime(state.from, now));
    to.value = isoMinute(resolveTime(state.to, now));
    custom.appendChild(field("From (UTC)", from));
    custom.appendChild(field("To (UTC)", to));
    custom.hidden = range !== null;
    form.appendChild(custom);
    if (page !== "alerts") form.appendChild(select("window", "Window", windowOptions(), state.window));
    if (page === "model" || page === "window") {
      form.appendChild(textInput("version", "Version", state.version, "all"));
      form.appendChild(textInput("segment", "Segment", state.segment, "all traffic (region=eu)"));
    }
    if (page === "alerts") {
      form.appendChild(textInput("model", "Model", state.model, "all"));
      form.appendChild(select("state", "State", STATES.map(function (s) { return [s, s || "all"]; }), state.state));
    }
    form.appendChild(select("refresh", "Auto-refresh", REFRESH, state.refresh));
    form.appendChild(element("button", { type: "submit", id: "iw-reload", text: "Refresh" }));
    form.addEventListener("change", onChange);
    form.addEventListener("submit", function (event) { event.preventDefault(); onChange(event); });
  }

  function onChange(event) {
    var form = document.getElementById("iw-controls");
    var target = event && event.target ? event.target.name : "";
    var range = form.elements.range.value;
    form.querySelector("#iw-custom").hidden = range !== "custom";
    if (range !== "custom") {
      state.from = "now-" + range; state.to = "now";
    } else if (form.elements.from.value && form.elements.to.value) {
      state.from = form.elements.from.value + ":00Z";
      state.to = form.elements.to.value + ":00Z";
    }
    ["window", "version", "segment", "model", "state", "refresh"].forEach(function (name) {
      if (form.elements[name]) state[name] = form.elements[name].value.trim();
    });
    if (page === "window" && (target === "range" || target === "from" || target === "to" || target === "window")) {
      // The drill-down shows one window: another range or window size is the model's page.
      window.location.assign(modelUrl(state.model, {
        version: state.version, segment: state.segment, window: state.window,
        from: state.from, to: state.to, refresh: state.refresh === "off" ? "" : state.refresh,
      }));
      return;
    }
    writeState();
    load();
  }

  // --- loading and drawing ------------------------------------------------------------------

  /** The page's state for people (the status line) and for tests: <body data-state=
   *  "loading" | "ready" | "error">, "ready" once every panel of a load is drawn. */
  function setStatus(text, isError, pageState) {
    document.body.setAttribute("data-state", pageState || (isError ? "error" : "loading"));
    var status = document.getElementById("iw-status");
    status.textContent = text;
    status.className = "iw-status" + (isError ? " iw-status-error" : "");
  }

  function rangeProblem() {
    if (page === "window") return null;
    var now = Date.now(), from = resolveTime(state.from, now), to = resolveTime(state.to, now);
    if (!isFinite(from) || !isFinite(to)) return "The time range is not valid.";
    if (to <= from) return "The range ends before it starts: pick a 'To' after 'From'.";
    return null;
  }

  function load() {
    window.clearTimeout(timer);
    var problem = rangeProblem();
    if (problem) { setStatus(problem, true); return; }
    var mine = ++sequence;
    setStatus("Loading…");
    window.fetch("/api/v1/pages/" + page + "?" + apiQuery(), { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, status: response.status, body: body }; });
      })
      .then(function (answer) {
        if (mine !== sequence) return;
        if (!answer.ok) {
          setStatus((answer.body && answer.body.error) || "The service answered " + answer.status, true);
          return;
        }
        lastData = answer.body;
        draw(lastData);
        setStatus("Updated " + charts.formatTime(Date.now(), "seconds").slice(11) + " UTC", false, "ready");
      })
      .catch(function (error) {
        if (mine === sequence) setStatus("Cannot reach the service: " + (error && error.message), true);
      })
      .then(function () { if (mine === sequence) schedule(); });
  }

  function schedule() {
    var every = duration(state.refresh);
    if (isFinite(every) && every > 0) timer = window.setTimeout(load, every);
  }

  function panel(name, report) {
    var wide = report.visualization === "table" || report.visualization === "stat";
    var section = element("section", { class: "iw-panel iw-panel-" + report.visualization + (wide ? " iw-wide" : ""), id: "report-" + name });
    section.appendChild(element("h2", { text: report.title || name }));
    if (report.description) section.appendChild(element("p", { class: "iw-description", text: report.description }));
    var box = element("div", { class: "iw-chart-box", "data-report": name });
    section.appendChild(box);
    return { section: section, box: box };
  }

  function draw(data) {
    var panels = document.getElementById("iw-panels");
    panels.textContent = "";
    var lines = page === "model" ? thresholds(data) : [];
    var marks = page === "model" ? markers(data) : [];
    var drawn = [];
    Object.keys(data).forEach(function (name) {
      var report = data[name];
      var made = panel(name, report);
      panels.appendChild(made.section);
      drawn.push([made.box, report]);
    });
    drawn.forEach(function (item) {
      var report = item[1];
      charts.render(item[0], report, {
        thresholds: report.threshold === "rules" ? lines : [],
        markers: report.visualization === "timeseries" ? marks : [],
        linkFor: linkFor(report),
      });
    });
    if (!drawn.length) panels.appendChild(element("p", { class: "iw-nodata", text: "No reports on this page." }));
  }

  // --- headings -----------------------------------------------------------------------------

  function heading() {
    var subtitle = document.getElementById("iw-subtitle");
    subtitle.textContent = "";
    if (page === "model") {
      subtitle.appendChild(document.createTextNode("Model · "));
      subtitle.appendChild(element("a", { href: "/alerts?model=" + encodeURIComponent(state.model), text: "its alert history" }));
    }
    if (page !== "window") return;
    var start = charts.toTime(state.window_start), size = duration(state.window);
    if (!isFinite(start) || !isFinite(size)) return;
    var title = document.getElementById("iw-title");
    title.textContent = state.model + " · window " + charts.formatTime(start) + " → " +
      charts.formatTime(start + size).slice(11) + " UTC (" + state.window + ")";
    var around = { version: state.version, segment: state.segment, window: state.window };
    var link = function (text, at) {
      return element("a", { href: modelUrl(state.model, Object.assign({ window_start: isoUtc(at) }, around)), text: text });
    };
    subtitle.appendChild(link("← previous window", start - size));
    subtitle.appendChild(document.createTextNode(" · "));
    subtitle.appendChild(link("next window →", start + size));
    subtitle.appendChild(document.createTextNode(" · "));
    subtitle.appendChild(element("a", {
      href: modelUrl(state.model, Object.assign({ from: state.from, to: state.to }, around)),
      text: "the model's page",
    }));
  }

  // --- start --------------------------------------------------------------------------------

  function start() {
    buildControls();
    heading();
    writeState();
    load();
    var resizing = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(resizing);
      resizing = window.setTimeout(function () { if (lastData) draw(lastData); }, 200);
    });
  }

  start();
})();
