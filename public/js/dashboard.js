// The operators' dashboard (/dashboard): asks once for an admin token (kept in this tab's
// sessionStorage only, never in a URL), then every 5 s reads GET /api/analytics/summary and
// GET /api/flags and draws them; the kill switch is POST /api/flags/kill-switch.
// Plain JS, no framework; uPlot (vendored from npm, global `uPlot`) draws the timeline.
// Everything from the server is written with textContent, never as HTML.

const TOKEN_KEY = "medpress.dashboard.token";
const REFRESH_MS = 5000;
const KILL_SWITCH = "kill_switch";
const GROUPS = [
  ["device_class", "Device class"],
  ["engine", "Engine"],
  ["preset", "Quality preset"],
  ["priority", "Priority"],
  ["specialty", "Clinical specialty"],
  ["variant", "Flag variant"],
];
const SERIES = [
  ["completed", "Compressed", "#117a43"],
  ["failed", "Failed", "#b42318"],
  ["fallbacks", "Sent as original", "#b26b00"],
  ["bypasses", "Send original now", "#6941c6"],
];

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const state = {
  token: null, summary: null, flags: null, chart: null, timer: null, busy: false, updated: null, run: 0,
};

// ---- formatting (plain language, "—" where there is no data) ----
const NONE = "—";
const isNum = (x) => typeof x === "number" && Number.isFinite(x);
export const pct = (r) => (isNum(r) ? `${(r * 100).toFixed(1)} %` : NONE);
const percentValue = (p) => (isNum(p) ? `${p.toFixed(1)} %` : NONE);
const count = (n) => (isNum(n) ? n.toLocaleString("en") : NONE);

export function bytes(n) {
  if (!isNum(n)) return NONE;
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function duration(s) {
  if (!isNum(s)) return NONE;
  if (s < 60) return `${s.toFixed(1)} s`;
  const minutes = Math.floor(s / 60);
  return `${minutes} min ${Math.round(s - minutes * 60)} s`;
}

function shortInterval(rate) {
  if (!rate || !isNum(rate.low) || !isNum(rate.high)) return "no clips yet";
  return `${(rate.low * 100).toFixed(1)}–${(rate.high * 100).toFixed(1)} %`;
}

export function interval(rate) {
  if (!rate || !isNum(rate.rate)) return "no clips yet";
  return `95 % interval ${pct(rate.low)} – ${pct(rate.high)} · ${count(rate.n)} clips`;
}

function reasons(map) {
  const entries = Object.entries(map || {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  return entries.length ? entries.map(([why, n]) => `${why}: ${count(n)}`).join(" · ") : "";
}

const clock = (date) => date.toLocaleTimeString("en-GB", { hour12: false });

// ---- tiny DOM helpers ----
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function setText(id, text) {
  $(id).textContent = text;
}

function show(id, visible) {
  $(id).hidden = !visible;
}

// ---- the token ----
function readToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return state.token; // storage refused (private mode): keep it in memory only
  }
}

function saveToken(token) {
  state.token = token;
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* memory only */
  }
}

function askForToken(message) {
  clearTimeout(state.timer);
  state.run += 1; // stops the refresh loop
  saveToken(null);
  show("board", false);
  show("controls", false);
  show("sign-in", true);
  show("sign-in-error", Boolean(message));
  setText("sign-in-error", message || "");
  $("dashboard-token").value = "";
  $("dashboard-token").focus();
}

function openBoard(token) {
  saveToken(token);
  show("sign-in", false);
  show("board", true);
  show("controls", true);
  refresh();
}

const authorized = () => ({ Authorization: `Bearer ${state.token}` });

// ---- fetching ----
function setConnection(kind, text) {
  const node = $("connection");
  node.dataset.state = kind;
  node.textContent = text;
}

async function loadSummary(hours, run) {
  const response = await fetch(`/api/analytics/summary?hours=${hours}`, {
    headers: authorized(),
    cache: "no-store",
  });
  if (response.status === 401) {
    askForToken("This token was refused: it may have expired or be mistyped. Paste a new admin token.");
    return "signed-out";
  }
  if (response.status === 403) {
    askForToken("This token is not an admin token. Make one with medpress token --user NAME --admin.");
    return "signed-out";
  }
  if (response.status === 404) {
    return "no-summary";
  }
  if (!response.ok) throw new ServerError(response.status);
  const summary = await response.json();
  if (run !== state.run) return "stale"; // the period changed meanwhile
  state.summary = summary;
  drawSummary(summary);
  return "ok";
}

async function loadFlags() {
  const response = await fetch("/api/flags", { cache: "no-cache" });
  if (!response.ok) throw new ServerError(response.status);
  state.flags = await response.json();
  drawFlags(state.flags);
}

class ServerError extends Error {
  constructor(status) {
    super(`The server answered ${status}.`);
    this.status = status;
  }
}

async function refresh() {
  clearTimeout(state.timer);
  const run = ++state.run; // a newer refresh (period changed, back online) supersedes this one
  const hours = Number($("window").value);
  const [summary, flags] = await Promise.allSettled([loadSummary(hours, run), loadFlags()]);
  if (run !== state.run || (summary.status === "fulfilled" && summary.value === "signed-out")) return;
  const failure = [summary, flags].find((result) => result.status === "rejected");
  if (failure && !(failure.reason instanceof ServerError)) {
    const since = state.updated ? `showing the figures from ${clock(state.updated)}` : "no figures yet";
    setConnection("offline", `Offline or the server cannot be reached: ${since}. Trying again every 5 seconds.`);
  } else if (failure) {
    setConnection("error", `${failure.reason.message} Trying again every 5 seconds.`);
  } else if (summary.value === "no-summary") {
    setConnection("error", "This server has no analytics summary yet (404). Flags and the kill switch work.");
  } else {
    setConnection("live", "Live");
  }
  if (!failure || (summary.status === "fulfilled" && summary.value === "ok")) {
    state.updated = new Date();
    const node = $("last-updated");
    node.textContent = clock(state.updated);
    node.dateTime = state.updated.toISOString();
  }
  state.timer = setTimeout(refresh, REFRESH_MS);
}

// ---- the summary ----
function drawSummary(summary) {
  const overall = summary.overall || {};
  const totals = summary.totals || {};
  const span = summary.window || {};
  if (isNum(span.from) && isNum(span.to)) {
    const when = { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hour12: false };
    const from = new Date(span.from * 1000).toLocaleString("en-GB", when);
    const to = new Date(span.to * 1000).toLocaleString("en-GB", when);
    setText("window-label", `figures from ${from} to ${to}`);
  }
  setText("success-rate", pct(overall.success_rate?.rate));
  setText("success-interval", interval(overall.success_rate));
  setText("percent-saved", percentValue(overall.percent_saved));
  setText("bytes-saved", overall.bytes_in > 0
    ? `${bytes(overall.bytes_saved)} saved (${bytes(overall.bytes_in)} → ${bytes(overall.bytes_out)})`
    : "");
  const seconds = overall.seconds || {};
  const timed = isNum(seconds.p50);
  setText("seconds-p50", duration(seconds.p50));
  setText("seconds-p90", timed
    ? `median · 9 in 10 within ${duration(seconds.p90)} · 99 in 100 within ${duration(seconds.p99)}`
    : "no compressions yet");
  setText("fallback-rate", pct(overall.fallback_rate));
  setText("fallback-reasons", reasons(overall.fallback_reasons) || "of clips, when compression could not help");
  setText("bypass-rate", pct(overall.bypass_rate));
  setText("bypass-reasons", reasons(overall.bypass_reasons) || "of clips, sent untouched on purpose");
  setText("clips", `${count(totals.clips)} clips`);
  // throughput_mbps: megabytes of video compressed per second of compression work.
  const throughput = isNum(overall.throughput_mbps) ? ` · compresses ${overall.throughput_mbps.toFixed(1)} MB/s` : "";
  setText("activity", `${count(totals.installations)} browsers · ${count(overall.uploads_completed)} uploads done, `
    + `${count(overall.uploads_failed)} failed${throughput}`);
  drawTimeline(summary.timeline || []);
  drawExperiments(summary.experiments || []);
  drawGroups(summary.by || {});
}

function drawTimeline(timeline) {
  const container = $("timeline");
  const empty = timeline.length === 0;
  show("timeline-empty", empty);
  container.hidden = empty;
  if (empty) return;
  const data = [timeline.map((row) => row.t), ...SERIES.map(([key]) => timeline.map((row) => row[key] ?? null))];
  if (state.chart) {
    state.chart.setData(data);
    return;
  }
  if (typeof window.uPlot !== "function") {
    container.textContent = "The chart library did not load; the figures above are still current.";
    return;
  }
  const opts = {
    width: chartWidth(container),
    height: chartHeight(),
    series: [
      { label: "Hour" },
      ...SERIES.map(([, label, colour]) => ({ label, stroke: colour, width: 2, points: { size: 6 } })),
    ],
    scales: { y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] } },
    axes: [{}, { label: "clips per hour", size: 50 }],
    cursor: { drag: { x: false, y: false } },
  };
  state.chart = new window.uPlot(opts, data, container);
  new ResizeObserver(() => {
    state.chart.setSize({ width: chartWidth(container), height: chartHeight() });
  }).observe(container);
}

const chartWidth = (container) => Math.max(240, container.clientWidth);
const chartHeight = () => (window.innerWidth < 600 ? 200 : 260);

// ---- experiments ----
export function verdict(arms) {
  const rated = arms.filter((arm) => isNum(arm.success?.rate) && arm.success.n > 0);
  const timed = arms.filter((arm) => isNum(arm.seconds_p50?.value) && arm.seconds_p50.n > 0);
  if (rated.length < 2 && timed.length < 2) return { clear: false, text: "Not enough clips yet to compare the arms." };
  const findings = [];
  if (rated.length >= 2) {
    const best = rated.reduce((a, b) => (b.success.rate > a.success.rate ? b : a));
    const others = rated.filter((arm) => arm !== best);
    if (others.every((arm) => best.success.low > arm.success.high)) {
      findings.push(`Arm “${best.variant}” is better: more of its compressions succeed, and the intervals do not overlap.`);
    }
  }
  if (timed.length >= 2) {
    const fastest = timed.reduce((a, b) => (b.seconds_p50.value < a.seconds_p50.value ? b : a));
    const others = timed.filter((arm) => arm !== fastest);
    if (others.every((arm) => fastest.seconds_p50.high < arm.seconds_p50.low)) {
      findings.push(`Arm “${fastest.variant}” is better on time: it compresses faster, and the intervals do not overlap.`);
    }
  }
  if (findings.length) return { clear: true, text: findings.join(" ") };
  return { clear: false, text: "No clear difference yet: the intervals overlap. Wait for more clips." };
}

function intervalBar(rate) {
  const bar = el("span", { class: "bar", "aria-hidden": "true" });
  if (rate && isNum(rate.low) && isNum(rate.high)) {
    const span = el("span", { class: "range" });
    span.style.left = `${rate.low * 100}%`;
    span.style.width = `${Math.max(0.5, (rate.high - rate.low) * 100)}%`;
    const dot = el("span", { class: "dot" });
    dot.style.left = `${(rate.rate ?? rate.low) * 100}%`;
    bar.append(span, dot);
  }
  return bar;
}

function drawExperiments(experiments) {
  const root = $("experiments");
  root.replaceChildren();
  if (experiments.length === 0) {
    root.append(el("p", { class: "empty", "data-testid": "experiments-empty", text: "No A/B experiment has data in this period." }));
    return;
  }
  for (const experiment of experiments) {
    const arms = experiment.arms || [];
    const judged = verdict(arms);
    const rows = arms.map((arm) => {
      const time = arm.seconds_p50 || {};
      const timeText = isNum(time.value)
        ? `95 % interval ${duration(time.low)} – ${duration(time.high)} · ${count(time.n)} clips`
        : "no clips yet";
      return el("tr", { "data-arm": arm.variant },
        el("th", { scope: "row", text: arm.variant }),
        el("td", { class: "num", text: count(arm.installations) }),
        el("td", {}, el("strong", { text: pct(arm.success?.rate) }), " ", intervalBar(arm.success),
          el("span", { class: "sub", "data-testid": "arm-success-interval", text: interval(arm.success) })),
        el("td", {}, el("strong", { text: duration(time.value) }),
          el("span", { class: "sub", "data-testid": "arm-time-interval", text: timeText })));
    });
    root.append(el("div", { class: "experiment", "data-flag": experiment.flag },
      el("h3", { text: `Flag “${experiment.flag}”` }),
      el("p", { class: "verdict", "data-testid": "verdict", "data-clear": String(judged.clear), text: judged.text }),
      el("div", { class: "scroll" }, el("table", {},
        el("thead", {}, el("tr", {}, el("th", { text: "Arm" }), el("th", { text: "Browsers" }),
          el("th", { text: "Compressions that succeeded" }), el("th", { text: "Median time" }))),
        el("tbody", {}, ...rows)))));
  }
}

// ---- groups ----
function drawGroups(by) {
  const root = $("groups");
  root.replaceChildren();
  for (const [key, title] of GROUPS) {
    const groups = Object.entries(by[key] || {}).sort((a, b) => (b[1].started ?? 0) - (a[1].started ?? 0));
    const body = groups.length
      ? groups.map(([name, m]) => el("tr", { "data-group": name },
        el("th", { scope: "row", text: name }),
        el("td", { class: "num", text: count(m.started) }),
        el("td", { class: "num" }, pct(m.success_rate?.rate), el("span", { class: "sub", text: shortInterval(m.success_rate) })),
        el("td", { class: "num", text: percentValue(m.percent_saved) }),
        el("td", { class: "num", text: duration(m.seconds?.p50) }),
        el("td", { class: "num", text: pct(m.fallback_rate) }),
        el("td", { class: "num", text: pct(m.bypass_rate) })))
      : [el("tr", {}, el("td", { colspan: "7", class: "empty", text: "No data in this period." }))];
    root.append(el("div", { class: "group", "data-testid": `group-${key}` },
      el("h3", { text: title }),
      el("div", { class: "scroll" }, el("table", {},
        el("thead", {}, el("tr", {}, ...["", "Started", "Succeeded", "Saved", "Median", "As original", "Bypassed"]
          .map((text) => el("th", { text })))),
        el("tbody", {}, ...body)))));
  }
}

// ---- flags and the kill switch ----
function killSwitchOn(flags) {
  const feature = (flags?.features || []).find((f) => f.name === KILL_SWITCH);
  return Boolean(feature?.enabled);
}

function drawFlags(flags) {
  const rows = (flags.features || []).map((feature) => el("tr", { "data-flag": feature.name, "data-enabled": String(Boolean(feature.enabled)) },
    el("th", { scope: "row" }, feature.name, feature.description ? el("span", { class: "sub", text: feature.description }) : ""),
    el("td", { text: feature.type || "release" }),
    el("td", {}, el("span", { class: feature.enabled ? "pill on" : "pill off", text: feature.enabled ? "On" : "Off" }))));
  $("flags").tBodies[0].replaceChildren(...rows);
  const on = killSwitchOn(flags);
  const stateNode = $("kill-switch-state");
  stateNode.dataset.state = on ? "on" : "off";
  stateNode.textContent = on
    ? "ON: every page is sending originals. Nothing is being compressed."
    : "OFF: pages compress as the flags say.";
  const button = $("kill-switch");
  button.dataset.state = on ? "on" : "off";
  button.textContent = on ? "Turn the kill switch OFF (compress again)" : "Turn the kill switch ON (send originals)";
  button.disabled = state.busy;
}

async function setKillSwitch(enabled) {
  state.busy = true;
  $("kill-switch").disabled = true;
  show("kill-switch-error", false);
  try {
    const response = await fetch("/api/flags/kill-switch", {
      method: "POST",
      headers: { ...authorized(), "Content-Type": "application/json" },
      body: JSON.stringify({ enabled }),
    });
    if (response.status === 401 || response.status === 403) {
      throw new Error("This token may not change flags: use an admin token.");
    }
    if (!response.ok) throw new Error(`The server refused (${response.status}). Nothing changed.`);
  } catch (error) {
    const text = error instanceof TypeError ? "The server cannot be reached: nothing changed. Try again." : error.message;
    setText("kill-switch-error", text);
    show("kill-switch-error", true);
  } finally {
    state.busy = false;
  }
  try {
    await loadFlags(); // show the state the server now has, not the one we asked for
  } catch {
    $("kill-switch").disabled = false;
  }
}

function onKillSwitch() {
  if (killSwitchOn(state.flags)) {
    setKillSwitch(false);
    return;
  }
  const dialog = $("kill-switch-confirm");
  dialog.returnValue = "";
  dialog.showModal();
}

// ---- start ----
function start() {
  $("sign-in").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("dashboard-token").value.trim();
    if (token) openBoard(token);
  });
  $("sign-out").addEventListener("click", () => askForToken(""));
  $("window").addEventListener("change", () => refresh());
  $("kill-switch").addEventListener("click", onKillSwitch);
  $("kill-switch-confirm").addEventListener("close", (event) => {
    if (event.target.returnValue === "confirm") setKillSwitch(true);
  });
  for (const change of ["online", "offline"]) { // say so at once, not at the next tick
    window.addEventListener(change, () => {
      if (state.token) refresh();
    });
  }
  const token = readToken();
  if (token) openBoard(token);
  else askForToken("");
}

start();
