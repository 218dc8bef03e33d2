// tus 1.0 uploads through tus-js-client (loaded as a classic script: window.tus).
// Used by the bypass button and, through the glue, by Python.

const CHUNK_SIZE = 8 * 1024 * 1024;  // each chunk is durable on the server once acknowledged
const RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10000, 20000];

/** Plain-language reason for a failed upload; never includes file names or contents. */
export function describeUploadError(error) {
  const status = error?.originalResponse?.getStatus?.();
  if (!status) return "the server could not be reached";
  const reason = serverReason(error.originalResponse.getBody?.() || "");
  return reason ? `the server refused it (${status}: ${reason})` : `the server refused it (${status})`;
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

/**
 * Upload a File or Blob; resolves to the upload URL. `metadata` must hold only
 * allow-listed fields. `onProgress(sent, total)` is called as bytes are acknowledged.
 * Aborting `signal` stops the upload and asks the server to delete what it received.
 */
export function uploadBlob(blob, metadata, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const upload = new window.tus.Upload(blob, {
      endpoint: new URL("/files/", location.href).href,
      metadata,
      chunkSize: CHUNK_SIZE,
      retryDelays: RETRY_DELAYS_MS,
      // tus-js-client's default fingerprint stores the file name in localStorage,
      // which may name a patient on a shared ward PC: keep nothing there.
      storeFingerprintForResuming: false,
      onProgress: (sent, total) => onProgress?.(sent, total),
      onSuccess: () => resolve(upload.url),
      onError: (error) => {
        const failure = new Error(describeUploadError(error));
        failure.detail = failure.message;
        reject(failure);
      },
    });
    signal?.addEventListener("abort", () => {
      upload.abort(true).catch(() => {});  // the partial upload expires anyway if this fails
      const failure = new Error("cancelled");
      failure.code = "cancelled";
      reject(failure);
    }, { once: true });
    upload.start();
  });
}
