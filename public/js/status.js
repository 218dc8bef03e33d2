// The one place that writes the progress/status section of the page.
// Used by bypass.js (before Python loads) and by Python's page adapter.

const STAGES = {
  loading: "Loading",
  ready: "Ready",
  compressing: "Compressing",
  uploading: "Uploading",
  done: "Done",
  bypassed: "Original sent",
  error: "Needs attention",
};

const WORKING = new Set(["loading", "compressing", "uploading"]);

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

/** Show a state ("loading"…"error"), a message, an optional percent and upload URL. */
export function showStatus({ state, message, percent = null, uploadUrl = null, posterUrl = null }) {
  const status = byTestId("status");
  status.dataset.state = state;
  status.textContent = message;
  for (const [key, value] of [["uploadUrl", uploadUrl], ["posterUrl", posterUrl]]) {
    if (value) status.dataset[key] = value;
    else delete status.dataset[key];
  }

  const bar = byTestId("progress");
  bar.dataset.stage = state;
  byTestId("stage").textContent = STAGES[state] ?? state;
  if (percent === null || percent === undefined) {
    // Indeterminate while work goes on without a measure; empty otherwise.
    if (WORKING.has(state)) bar.removeAttribute("value");
    else bar.value = 0;
    byTestId("percent").textContent = "";
  } else {
    bar.value = percent;
    byTestId("percent").textContent = `${Math.round(percent)}%`;
  }
}

export function currentState() {
  return byTestId("status").dataset.state;
}
