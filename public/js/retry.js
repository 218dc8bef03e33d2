// When a failed tus request is worth another try, and how long to wait before it.
// Pure functions: no timers, no network (upload.js applies them).

export const MAX_ATTEMPTS = 8;  // in a row without progress; any acknowledged byte resets it
const BASE_MS = 500;
const CAP_MS = 30_000;
const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** Network errors (no status), 5xx, 409 (offset moved: resume from HEAD), 423 and 429. */
export function retryable(status) {
  return !status || status >= 500 || status === 409 || status === 423 || status === 429;
}

/**
 * The wait before retry number `attempt` (0-based): the server's `Retry-After` (seconds or an
 * HTTP date) when it sent one, else exponential back-off with "equal jitter" (half fixed,
 * half random), so a ward full of phones that lost Wi-Fi together do not return together.
 */
export function retryDelayMs(attempt, retryAfter, now = Date.now(), random = Math.random) {
  const asked = retryAfterMs(retryAfter, now);
  if (asked !== null) return Math.min(asked, MAX_RETRY_AFTER_MS);
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** attempt);
  return ceiling / 2 + (random() * ceiling) / 2;
}

function retryAfterMs(value, now) {
  if (!value) return null;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
