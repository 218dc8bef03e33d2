// tus 1.0 uploads through tus-js-client (loaded as a classic script: window.tus).
// Used by the bypass button and, through the glue, by Python.
// Retries are ours (retry.js): network errors, 5xx, 409, 423 and 429 wait (Retry-After when
// the server says, else back-off with jitter) and resume from the server's offset; offline,
// uploads pause, and the "online" event resumes them. Other refusals end the upload.
import { t } from "./i18n.js";
import { MAX_ATTEMPTS, retryable, retryDelayMs } from "./retry.js";

const CHUNK_SIZE = 8 * 1024 * 1024;  // each chunk is durable on the server once acknowledged
const active = new Set();  // uploads under way, paused when the browser goes offline

window.addEventListener("offline", () => {
  for (const entry of active) entry.upload.abort(false);  // keeps the upload: resumed online
});
window.addEventListener("online", () => {
  for (const entry of active) resume(entry);
});
// Leaving the page while a clip is still being sent asks first (the browser's own prompt).
window.addEventListener("beforeunload", (event) => {
  if (active.size) event.preventDefault();
});

// The uplink as this page has seen it: each PATCH timed from request to response, with the
// bytes the server acknowledged (client.core.link turns the recent ones into one figure).
const MAX_LINK_SAMPLES = 16;
const linkSamples = [];
const patchStarts = new WeakMap();

/** {samples: [{sent, seconds, at}], now, downlink}: times in seconds of performance.now(). */
export function uplinkSamples() {
  return {
    samples: linkSamples.slice(), now: performance.now() / 1000,
    downlink: navigator.connection?.downlink,  // Mbit/s, the browser's own estimate (undefined: None)
  };
}

/** One PATCH: `sent` bytes acknowledged `seconds` after it was sent. */
export function recordPatch(sent, seconds) {
  if (!(sent > 0) || !(seconds > 0)) return;
  linkSamples.push({ sent, seconds, at: performance.now() / 1000 });
  if (linkSamples.length > MAX_LINK_SAMPLES) linkSamples.shift();
}

function timePatch(request, response) {
  const started = patchStarts.get(request);
  if (started === undefined || response.getStatus() !== 204) return;
  const sent = Number(response.getHeader("Upload-Offset")) - Number(request.getHeader("Upload-Offset"));
  recordPatch(sent, (performance.now() - started) / 1000);
}

function resume(entry) {
  clearTimeout(entry.retryTimer);
  if (navigator.onLine !== false && active.has(entry)) entry.upload.start();  // HEAD, then on
}

/** Plain-language reason for a failed upload; never includes file names or contents. */
export function describeUploadError(error) {
  const response = error?.originalResponse;
  return describeRefusal(response?.getStatus?.(), response?.getBody?.() || "");
}

/** The same from a response's status (0 or none: unreachable) and body. */
export function describeRefusal(status, body) {
  if (!status) return t("upload_error.unreachable");
  const reason = serverReason(body);
  return reason ? t("upload_error.refused_reason", { status, reason }) : t("upload_error.refused", { status });
}

// The server's own short explanation: plain text or a JSON "detail"; never an HTML page.
function serverReason(body) {
  const text = body.trim();
  if (!text || text.startsWith("<")) return "";
  try {
    const parsed = JSON.parse(text);
    return String(parsed.detail || parsed.message || "").slice(0, 200);
  } catch {
    return text.split("\n")[0].slice(0, 200);
  }
}

// One upload per Blob. A second caller for the same File (the bypass pressed while Python is
// already sending that original) joins the upload under way, or gets its URL once it is done,
// so a clip is never stored twice; the upload is aborted only when every caller has given up.
const shared = new WeakMap();
// Files "Send original now" took over: Python leaves them alone, even if it loads afterwards.
const bypassedFiles = new WeakSet();

export const markBypassed = (file) => bypassedFiles.add(file);
export const isBypassed = (file) => bypassedFiles.has(file);

/**
 * Upload a File or Blob; resolves to the upload URL. `metadata` must hold only
 * allow-listed fields (a caller joining an upload under way joins it as it is).
 * `onProgress(sent, total)` is called as bytes are acknowledged. Aborting `signal`
 * gives up this caller's interest; the last one out stops the upload and asks the
 * server to delete what it received. `source`: the File `blob` stands for (an original
 * stripped of its metadata), so that the bypass, sending that File, joins this upload.
 * `resumeUrl`: an upload begun before a reload, continued from the server's offset (HEAD);
 * `onUrl(url)` is called as soon as the server has created a new upload.
 */
export function uploadBlob(blob, metadata, onProgress, signal, source = blob, { resumeUrl = null, onUrl = null } = {}) {
  const key = source ?? blob;  // an original stripped of metadata stands for its file
  let entry = shared.get(key);
  if (!entry) {
    entry = startUpload(blob, metadata, resumeUrl, onUrl);
    shared.set(key, entry);
    entry.result.catch(() => shared.get(key) === entry && shared.delete(key));  // may retry
  }
  entry.callers += 1;
  if (onProgress) entry.listeners.add(onProgress);
  return new Promise((resolve, reject) => {
    entry.result.then(resolve, reject);
    signal?.addEventListener("abort", () => {
      entry.listeners.delete(onProgress);
      entry.callers -= 1;
      if (entry.callers === 0 && !entry.done) {
        shared.delete(key);
        active.delete(entry);
        clearTimeout(entry.retryTimer);
        // Paused: keep the partial upload to resume it (by its URL) later. Otherwise ask
        // the server to delete it (it expires anyway if this fails).
        entry.upload.abort(signal.reason !== "pause").catch(() => {});
      }
      const failure = new Error("cancelled");
      failure.code = "cancelled";
      reject(failure);
    }, { once: true });
  });
}

function startUpload(blob, metadata, resumeUrl, onUrl) {
  const entry = {
    callers: 0, listeners: new Set(), done: false, upload: null, result: null,
    attempt: 0, retryTimer: null,
  };
  entry.result = new Promise((resolve, reject) => {
    entry.upload = new window.tus.Upload(blob, {
      endpoint: new URL("/files/", location.href).href,
      uploadUrl: resumeUrl,
      metadata,
      chunkSize: CHUNK_SIZE,
      retryDelays: null,  // ours: see onError
      // tus-js-client's default fingerprint stores the file name in localStorage,
      // which may name a patient on a shared ward PC: keep nothing there.
      storeFingerprintForResuming: false,
      onUploadUrlAvailable: () => onUrl?.(entry.upload.url),
      onBeforeRequest: (request) => {
        if (request.getMethod() === "PATCH") patchStarts.set(request, performance.now());
      },
      onAfterResponse: timePatch,
      onProgress: (sent, total) => entry.listeners.forEach((listener) => listener(sent, total)),
      onChunkComplete: () => { entry.attempt = 0; },  // progress: the next failure starts afresh
      onSuccess: () => {
        entry.done = true;
        active.delete(entry);
        resolve(entry.upload.url);
      },
      onError: (error) => {
        const response = error?.originalResponse;
        if (retryable(response?.getStatus?.()) && entry.attempt < MAX_ATTEMPTS && active.has(entry)) {
          const delay = retryDelayMs(entry.attempt++, response?.getHeader?.("Retry-After"));
          entry.retryTimer = setTimeout(() => resume(entry), delay);  // offline: "online" resumes
          return;
        }
        active.delete(entry);
        const failure = new Error(describeUploadError(error));
        failure.detail = failure.message;
        reject(failure);
      },
    });
    active.add(entry);
    if (navigator.onLine !== false) entry.upload.start();
  });
  return entry;
}
