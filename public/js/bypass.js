// "Send original now": one click sends the chosen file exactly as it is.
// Plain JS on purpose, so it works before (and without) Python.
import { showStatus } from "./status.js";
import { markBypassed, uploadBlob } from "./upload.js";

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
let sending = false;

function sizeText(bytes) {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${bytes} bytes`;
}

async function sendOriginal() {
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
    reason: "bypass",
    bypass: "1",
  };
  showStatus({ state: "uploading", message: "Sending the original now…", percent: 0 });
  try {
    const url = await uploadBlob(file, metadata, (sent, total) => {
      const percent = total ? (100 * sent) / total : 0;
      showStatus({ state: "uploading", message: `Sending the original… ${Math.round(percent)}%`, percent });
    });
    showStatus({ state: "bypassed", message: `Sent the original (${sizeText(file.size)}).`, percent: 100, uploadUrl: url });
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

byTestId("bypass").addEventListener("click", sendOriginal);
// The form is never submitted (the Content-Security-Policy allows no inline handlers).
byTestId("send-form").addEventListener("submit", (event) => event.preventDefault());
