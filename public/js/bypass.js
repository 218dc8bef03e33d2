// "Send original now": one click sends the chosen file exactly as it is. Priority
// "emergency" does the same from Start. Plain JS on purpose, so both work before (and
// without) Python; the server records each in its audit trail (metadata bypass=1).
import { showStatus } from "./status.js";
import { markBypassed, uploadBlob } from "./upload.js";

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
let sending = false;

function sizeText(bytes) {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${bytes} bytes`;
}

const ENDINGS = {
  bypass: (size) => ({ state: "bypassed", message: `Sent the original (${size}).` }),
  emergency: (size) => ({
    state: "done", message: `Emergency: the original was sent without compression (${size}).`,
  }),
};

async function sendOriginal(reason) {
  const file = byTestId("file-input").files[0];
  if (!file) {
    showStatus({ state: "error", message: "Choose a video first, then press “Send original now”." });
    return;
  }
  if (sending) return;
  sending = true;
  // From now on this file is the bypass's: Python (loaded or not yet) never starts it again.
  markBypassed(file);
  byTestId("start").disabled = true;
  // Python (if loaded) stops whatever it was doing for this file; an upload of this very
  // file under way is joined below, not repeated.
  document.dispatchEvent(new CustomEvent("medpress:bypass"));
  const metadata = {
    filename: file.name,
    filetype: file.type || "application/octet-stream",
    priority: byTestId("priority").value,
    compressed: "0",
    original_size: String(file.size),
    reason,
    bypass: "1",
  };
  showStatus({ state: "uploading", message: "Sending the original now…", percent: 0 });
  try {
    const url = await uploadBlob(file, metadata, (sent, total) => {
      const percent = total ? (100 * sent) / total : 0;
      showStatus({ state: "uploading", message: `Sending the original… ${Math.round(percent)}%`, percent });
    });
    showStatus({ ...ENDINGS[reason](sizeText(file.size)), percent: 100, uploadUrl: url });
  } catch (error) {
    showStatus({
      state: "error",
      message: `The original could not be sent: ${error.detail || "unknown error"}. ` +
        "Check the network and press “Send original now” again.",
    });
  } finally {
    sending = false;
  }
}

byTestId("bypass").addEventListener("click", () => sendOriginal("bypass"));

// Emergency: Start sends the original at once, whether Python has loaded or not (this
// listener comes first, so Python's never sees the click).
byTestId("start").addEventListener("click", (event) => {
  if (byTestId("priority").value !== "emergency") return;
  event.stopImmediatePropagation();
  sendOriginal("emergency");
});
byTestId("priority").addEventListener("change", () => {
  if (document.documentElement.dataset.python !== "attached") {
    byTestId("start").disabled = byTestId("priority").value !== "emergency";
  }
});
// The form is never submitted (the Content-Security-Policy allows no inline handlers).
byTestId("send-form").addEventListener("submit", (event) => event.preventDefault());
