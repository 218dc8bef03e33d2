// "Send original now": one click sends the current clip exactly as it is; priority
// "emergency" does the same from Start, for every clip not sent yet. Plain JS on purpose,
// so both work before (and without) Python; the server records each in its audit trail
// (metadata bypass=1). Once Python has loaded it shows the clips' progress itself
// (its queue follows the "medpress:bypass" event); before that, this writes the status.
import { decimal, ready, t } from "./i18n.js";
import { currentFile, pendingFiles, sendOriginal } from "./originals.js";
import { showStatus } from "./status.js";

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
const pythonShows = () => document.documentElement.dataset.python === "attached";

function sizeText(bytes) {
  return bytes >= 1e6 ? t("size.mb", { n: decimal(bytes / 1e6) }) : t("size.bytes", { n: bytes });
}

// Every sentence comes from the catalogue (i18n.js), in the page's language.
const ENDINGS = {
  bypass: (size) => ({ state: "bypassed", message: t("sent.original", { size }) }),
  emergency: (size) => ({ state: "done", message: t("bypass.emergency", { size }) }),
};

async function send(files, reason) {
  if (!files.length) {
    await ready;
    showStatus({ state: "error", message: t("bypass.choose_first") });
    return;
  }
  const priority = byTestId("priority").value;
  const show = (status) => { if (!pythonShows()) showStatus(status); };
  // The first request leaves now; the words follow once the catalogue is there (a few ms).
  const uploads = files.map((file, index) => sendOriginal(file, {
    reason, priority,
    onProgress: index ? null : (sent, total) => {
      const percent = total ? (100 * sent) / total : 0;
      show({ state: "uploading", message: t("bypass.progress", { percent: Math.round(percent) }), percent });
    },
  }));
  byTestId("start").disabled = true;
  await ready;
  show({ state: "uploading", message: t("bypass.sending"), percent: 0 });
  try {
    const url = await uploads[0];
    await Promise.all(uploads);
    show({ ...ENDINGS[reason](sizeText(files[0].size)), percent: 100, uploadUrl: url });
  } catch (error) {
    show({ state: "error", message: t("bypass.failed", { detail: error.detail || t("bypass.unknown_error") }) });
  }
}

byTestId("bypass").addEventListener("click", () => {
  const file = currentFile();
  send(file ? [file] : [], "bypass");
});

// Emergency: Start sends the originals at once, whether Python has loaded or not (this
// listener comes first, so Python's never sees the click).
byTestId("start").addEventListener("click", (event) => {
  if (byTestId("priority").value !== "emergency") return;
  event.stopImmediatePropagation();
  send(pendingFiles(), "emergency");
});
byTestId("priority").addEventListener("change", () => {
  if (!pythonShows()) {  // before Python, a routine Start waits for it (start-early.js)
    byTestId("start").disabled = byTestId("priority").value !== "emergency"
      && byTestId("file-input").files.length === 0;
  }
});
// The form is never submitted (the Content-Security-Policy allows no inline handlers).
byTestId("send-form").addEventListener("submit", (event) => event.preventDefault());
