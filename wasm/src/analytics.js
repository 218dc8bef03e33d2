// Analytics events on their way to the server: Python records each (already encoded, typed,
// free of patient data); they go in batches every few seconds, and what is left goes with
// navigator.sendBeacon when the page is hidden for good (pagehide).
const ENDPOINT = "/api/analytics";
const FLUSH_MS = 5000;
const BATCH = 500;  // the server's cap
const MAX_KEPT = 2000;  // a long time offline keeps the newest, never grows without bound

let buffer = [];
const body = (items) => `{"events":[${items.join(",")}]}`;

export function recordEvent(json) {
  buffer.push(json);
  if (buffer.length > MAX_KEPT) buffer = buffer.slice(-MAX_KEPT);
}

export async function flushEvents() {
  if (!buffer.length) return;
  const items = buffer.splice(0, BATCH);
  try {
    const answer = await fetch(ENDPOINT, {
      method: "POST", body: body(items), headers: { "Content-Type": "application/json" }, keepalive: true,
    });
    if (answer.status === 429 || answer.status >= 500) buffer.unshift(...items);  // later
  } catch {
    buffer.unshift(...items);  // offline: they go when the network is back
  }
}

setInterval(flushEvents, FLUSH_MS);
window.addEventListener("pagehide", () => {
  while (buffer.length) {
    const items = buffer.splice(0, BATCH);
    navigator.sendBeacon(ENDPOINT, new Blob([body(items)], { type: "application/json" }));
  }
});
