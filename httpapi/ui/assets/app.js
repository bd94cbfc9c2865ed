// edgecron's dashboard: polls the REST API while the page is visible
// (docs/http.md, "Dashboard"). No framework; every value from the device
// goes into the page as text, never as markup.
"use strict";
const POLL = 5000, HISTORY_POLL = 30000;
const $ = id => document.getElementById(id);

// el builds an element: el("td", {class: "x"}, "text", child...).
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), attrs[k]);
    else e.setAttribute(k, attrs[k]);
  }
  for (const c of kids) if (c != null) e.append(c);
  return e;
}

async function api(method, path, body) {
  const opt = {method, headers: {Accept: "application/json"}};
  if (body !== undefined) {
    opt.headers["Content-Type"] = "application/json";
    opt.body = JSON.stringify(body);
  }
  const r = await fetch(path, opt);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
  // Errors: {"status":"rejected","code":"unsafe","error":"why"}.
  if (!r.ok) throw new Error(method + " " + path + ": " + (data && data.code ? data.code + ": " + data.error : r.status + " " + r.statusText));
  return data;
}

function say(err) {
  const m = $("msg");
  m.hidden = !err;
  m.textContent = err ? String(err.message || err) : "";
}

// Times: relative ("in 42s", "3m ago"), the full time in the tooltip.
function span(sec) {
  sec = Math.abs(Math.round(sec));
  if (sec < 60) return sec + "s";
  if (sec < 3600) return Math.floor(sec / 60) + "m " + sec % 60 + "s";
  if (sec < 86400) return Math.floor(sec / 3600) + "h " + Math.floor(sec % 3600 / 60) + "m";
  return Math.floor(sec / 86400) + "d " + Math.floor(sec % 86400 / 3600) + "h";
}
// Relative to the device's clock: skew is how far it is ahead of this
// browser's (ignored within 2 s: GET /scheduler gives whole seconds).
let skew = 0;
function when(iso) {
  if (!iso) return "—";
  const d = (Date.parse(iso) - Date.now() - skew) / 1000;
  return el("span", {title: iso}, d >= 0 ? "in " + span(d) : span(d) + " ago");
}

// GET /scheduler: {state, device, version, uptime_seconds, clock: {zone,
// trusted}, mqtt: null | {connected, outbox_queued, outbox_dropped}}.
function renderDevice(s) {
  const rows = [], add = (k, v) => rows.push(el("div", null, el("dt", null, k), el("dd", null, v)));
  $("title").textContent = document.title = "edgecron · " + s.device;
  add("Version", s.version);
  add("State", s.state);
  add("Uptime", span(s.uptime_seconds));
  const off = Date.parse(s.clock.now) - Date.now();
  skew = Math.abs(off) > 2000 ? off : 0;
  add("Clock", (s.clock.trusted ? "trusted" : "NOT trusted (cron and date jobs wait)") + " · " + s.clock.zone +
    (skew ? " · " + span(skew / 1000) + (skew > 0 ? " ahead of" : " behind") + " this browser" : ""));
  const m = s.mqtt;
  add("MQTT", m ? (m.connected ? "connected" : "disconnected") : "off");
  add("Outbox", m ? m.outbox_queued + " queued · " + m.outbox_dropped + " dropped" : "—");
  $("device").replaceChildren(...rows);
}

let busy = false;
async function act(method, path, body) {
  if (busy) return;
  busy = true;
  try {
    await api(method, path, body);
    say(null);
  } catch (e) {
    say(e);
  } finally {
    busy = false;
  }
  refresh();
}

// A job of the config file is the file's to change unless it says
// remote: true (docs/jobs.md): its pause and resume are disabled; run is
// not a change.
function renderJobs(jobs) {
  const rows = jobs.map(j => {
    const base = "/scheduler/jobs/" + encodeURIComponent(j.id) + "/";
    const res = j.last_result || "—", op = j.paused ? "resume" : "pause";
    const toggle = el("button", {name: op, onclick: () => act("POST", base + op)}, j.paused ? "Resume" : "Pause");
    if (j.source === "config" && !j.remote) {
      toggle.disabled = true;
      toggle.title = "a job of the config file: change it there, or give it remote: true";
    }
    return el("tr", {"data-job": j.id, class: j.paused ? "paused" : ""},
      el("td", {"data-l": "Job"}, j.id, j.name ? el("small", null, j.name) : null),
      el("td", {"data-l": "Next"}, j.paused ? "paused" : j.trigger && j.trigger.type === "reading" ? "on readings" : when(j.next_run_time)),
      el("td", {"data-l": "Last"}, when(j.last_run_time)),
      el("td", {"data-l": "Result", class: res === "ok" || res === "—" ? "" : "err"}, res),
      el("td", null, el("button", {name: "run", onclick: () => act("POST", base + "run")}, "Run"), toggle));
  });
  $("jobs").tBodies[0].replaceChildren(...rows);
}

// Charts: one SVG path per value, x = time, y = value; a gap in the
// readings (over two buckets) is a gap in the line.
const charts = {};
function chart(s, step) {
  const W = 300, H = 60, n = s.t.length;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  svg.setAttribute("preserveAspectRatio", "none");
  if (!n) return [svg, null];
  const t0 = s.t[0], t1 = Math.max(s.t[n - 1], t0 + step);
  let lo = Math.min(...s.v), hi = Math.max(...s.v);
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const x = t => (t - t0) / (t1 - t0) * W, y = v => H - 3 - (v - lo) / (hi - lo) * (H - 6);
  let d = "";
  for (let i = 0; i < n; i++) {
    const gap = i === 0 || s.t[i] - s.t[i - 1] > 2 * step;
    d += (gap ? "M" : "L") + x(s.t[i]).toFixed(1) + " " + y(s.v[i]).toFixed(1);
    // A point alone is a short dash.
    if (gap && (i === n - 1 || s.t[i + 1] - s.t[i] > 2 * step)) d += "h" + Math.max(2, step / (t1 - t0) * W).toFixed(1);
  }
  const p = document.createElementNS("http://www.w3.org/2000/svg", "path");
  p.setAttribute("d", d);
  svg.append(p);
  const u = " " + (s.unit || ""), r = v => String(Math.round(v * 100) / 100);
  return [svg, el("div", {class: "range"},
    el("span", null, "min " + r(Math.min(...s.v)) + u), el("span", null, span(t1 - t0)), el("span", null, "max " + r(Math.max(...s.v)) + u))];
}

// GET /sensors: [{sensor, ts, values: {name: value}, units}]; no ts and
// null values before the first reading.
function renderSensors(list) {
  $("sensors").replaceChildren(...list.map(s => {
    const card = el("div", {class: "card", "data-sensor": s.sensor}, el("h3", null, s.sensor));
    const units = s.units || {}, h = charts[s.sensor];
    for (const k in s.values || {}) {
      card.append(el("div", {class: "val"}, String(s.values[k]), el("small", null, " " + (units[k] || "") + " " + k)));
      const ser = h && h.series.find(x => x.name === k);
      if (ser) card.append(...chart(ser, h.step).filter(Boolean));
    }
    card.append(el("small", null, s.ts ? "read " : "no reading yet", s.ts ? when(s.ts) : null));
    return card;
  }));
}

const pulseFor = {};

// GET /actuators: [{actuator, state: "ON"|"OFF", value (PWM: 0..1)}].
function renderActuators(list) {
  $("actuators").replaceChildren(...list.map(a => {
    const path = "/actuators/" + encodeURIComponent(a.actuator), pwm = a.value != null;
    const send = c => () => act("POST", path, c);
    // What was typed survives the next refresh.
    const dur = el("input", {value: pulseFor[a.actuator] || "5s", "aria-label": "pulse duration",
      oninput: () => { pulseFor[a.actuator] = dur.value; }});
    const card = el("div", {class: "card", "data-actuator": a.actuator},
      el("h3", null, a.actuator),
      el("div", {class: "val"}, a.state, pwm ? el("small", null, " " + Math.round(a.value * 100) + " %") : null),
      el("div", null,
        el("button", {name: "on", onclick: send({command: "on"})}, "On"),
        el("button", {name: "off", onclick: send({command: "off"})}, "Off"),
        el("button", {name: "toggle", onclick: send({command: "toggle"})}, "Toggle")),
      el("div", null,
        el("button", {name: "pulse", onclick: () => act("POST", path, {command: "pulse", duration: dur.value})}, "Pulse"), dur));
    if (pwm) {
      const r = el("input", {type: "range", min: 0, max: 100, value: Math.round(a.value * 100), "aria-label": "level"});
      r.addEventListener("change", () => act("POST", path, {command: "set", value: r.value / 100}));
      card.append(r);
    }
    return card;
  }));
}

// refresh reads everything, the charts every HISTORY_POLL; one at a time
// (a click during a refresh asks for another after it).
let timer = 0, lastHistory = 0, sensorNames = [], inflight = false, again = false, failed = false;
async function refresh() {
  if (inflight) { again = true; return; }
  inflight = true;
  clearTimeout(timer);
  try {
    const [s, jobs, sensors, acts] = await Promise.all([
      api("GET", "/scheduler"), api("GET", "/scheduler/jobs"), api("GET", "/sensors"), api("GET", "/actuators")]);
    renderDevice(s);
    renderJobs(jobs || []);
    sensorNames = (sensors || []).map(x => x.sensor);
    if (Date.now() - lastHistory > HISTORY_POLL) await loadHistory();
    renderSensors(sensors || []);
    // Not while a field or slider of theirs is in use.
    const f = document.activeElement;
    if (!(f && f.tagName === "INPUT" && $("actuators").contains(f))) renderActuators(acts || []);
    if (failed) say(null);
    failed = false;
    $("conn").textContent = "live";
    $("conn").className = "badge ok";
  } catch (e) {
    failed = true;
    $("conn").textContent = "offline";
    $("conn").className = "badge bad";
    say(e);
  }
  inflight = false;
  if (again) { again = false; return refresh(); }
  if (!document.hidden) timer = setTimeout(refresh, POLL);
}
async function loadHistory() {
  lastHistory = Date.now();
  await Promise.all(sensorNames.map(async n => {
    try {
      charts[n] = await api("GET", "/sensors/" + encodeURIComponent(n) + "/history");
    } catch (e) { delete charts[n]; }
  }));
}
// No polling while the page is hidden: a closed or background tab costs
// the device nothing.
$("msg").addEventListener("click", () => say(null));
document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); else clearTimeout(timer); });
refresh();
