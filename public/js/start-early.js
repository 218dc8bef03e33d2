// Start before Python is ready: a file can be chosen and Start pressed while Python is still
// loading. The press is remembered here, and the work begins the moment Python is ready
// (client/browser/app.py takes it with `takeEarlyStart`). Loaded after bypass.js, whose
// emergency Start comes first. Once Python is attached it handles Start itself.
import { ready, t } from "./i18n.js";
import { showStatus } from "./status.js";

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
const pythonShows = () => document.documentElement.dataset.python === "attached";
const SLOW_MS = 20_000;
let pressed = false;

/** Whether Start was pressed before Python was ready (once: it is then Python's). */
export function takeEarlyStart() {
  const was = pressed;
  pressed = false;
  return was;
}

byTestId("file-input").addEventListener("change", () => {
  if (!pythonShows()) byTestId("start").disabled = byTestId("file-input").files.length === 0;
});

byTestId("start").addEventListener("click", async () => {
  if (pythonShows() || byTestId("file-input").files.length === 0) return;
  pressed = true;
  byTestId("start").disabled = true;
  await ready;
  if (!pythonShows()) showStatus({ state: "loading", message: t("status.start_pending") });
  setTimeout(() => {  // Python is late (a slow or broken network): say what still works
    if (!pythonShows()) showStatus({ state: "loading", message: t("status.start_slow") });
  }, SLOW_MS);
});
