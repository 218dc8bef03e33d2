// The one place that writes the progress/status section of the page.
// Used by bypass.js (before Python loads) and by Python's page adapter.
// Stage names come from the catalogue (i18n.js); on a language switch the stage is
// renamed, and a message that is a catalogue text as it stands is said again in the new
// language (messages with figures in them change with the next one).
import { has, keyOf, t } from "./i18n.js";

const WORKING = new Set(["loading", "compressing", "uploading"]);

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

const stageName = (state) => (has(`stage.${state}`) ? t(`stage.${state}`) : state);

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
  const stage = byTestId("stage");
  delete stage.dataset.i18n;  // the page's first text is replaced: from now on, the state's
  delete status.dataset.i18n;
  stage.textContent = stageName(state);
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

document.addEventListener("medpress:language", ({ detail }) => {
  const stage = byTestId("stage");
  if (!stage.dataset.i18n) stage.textContent = stageName(byTestId("progress").dataset.stage);
  const status = byTestId("status");
  const key = !status.dataset.i18n && detail.previous && keyOf(status.textContent, detail.previous);
  if (key) status.textContent = t(key);
});
