// Sending a file's original untouched: "Send original now" (the page's button or a queue
// item's) and priority "emergency". Plain JS, so it works before (and without) Python.
// One original per File, whoever asks and however often: a second request for the same
// file gets the first one's result. The server records each in its audit trail (bypass=1).
import { markBypassed, uploadBlob } from "./upload.js";

const sending = new Map();  // File → {url: Promise of its upload URL, reason, listeners}

/**
 * Send `file` as it is; resolves to its upload URL. `reason`: "bypass" or "emergency".
 * Tells the page (document "medpress:bypass", which Python listens to) and the host page
 * (window "medpress:bypass", without the file) before the first byte leaves.
 */
export function sendOriginal(file, {
  reason = "bypass", priority = "routine", onProgress = null, onUrl = null, resumeUrl = null,
} = {}) {
  let entry = sending.get(file);
  if (!entry) {
    markBypassed(file);  // from now on Python (loaded or not yet) never compresses it
    entry = { listeners: new Set(), url: null, reason, created: null, onUrls: new Set() };
    document.dispatchEvent(new CustomEvent("medpress:bypass", { detail: { file, reason } }));
    window.dispatchEvent(new CustomEvent("medpress:bypass", { detail: { reason, size: file.size } }));
    const metadata = {
      filename: file.name,
      filetype: file.type || "application/octet-stream",
      priority,
      compressed: "0",
      original_size: String(file.size),
      reason,
      bypass: "1",
    };
    const created = (url) => {
      entry.created = url;
      entry.onUrls.forEach((fn) => fn(url));
    };
    entry.url = uploadBlob(file, metadata, (sent, total) => entry.listeners.forEach((fn) => fn(sent, total)),
      undefined, file, { resumeUrl, onUrl: created });
    entry.url.catch(() => sending.get(file) === entry && sending.delete(file));  // may try again
    sending.set(file, entry);
  }
  if (onProgress) entry.listeners.add(onProgress);
  if (onUrl) {  // told where the original goes as soon as the server has made its upload
    entry.onUrls.add(onUrl);
    if (entry.created) onUrl(entry.created);
  }
  return entry.url;
}

/** Why this file's original is being (or was) sent: "bypass", "emergency", or null. */
export const originalReason = (file) => sending.get(file)?.reason ?? null;

// Which files the page's own "Send original now" and an emergency Start mean. Python, once
// loaded, keeps this up to date with its queue's current item and the clips still to send;
// before that, the files chosen in the picker.
let queued = null;

/** Python: the queue's current file (or null) and the files not sent yet, in order. */
export function setQueuedFiles(current, pending) {
  queued = { current, pending: Array.from(pending) };
}

const chosen = () => Array.from(document.querySelector('[data-testid="file-input"]').files);

/** The file "Send original now" stands for: the queue's current item, or the first chosen. */
export function currentFile() {
  return queued ? queued.current : chosen()[0] ?? null;
}

/** The files an emergency Start sends: every clip not sent yet, or every chosen file. */
export function pendingFiles() {
  return queued ? queued.pending : chosen();
}
