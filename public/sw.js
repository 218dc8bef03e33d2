// medpress's service worker: keeps this build's assets (/vendor/<build id>/...: Pyodide and
// its snapshot, the wheels, PyScript, the engines' JS) on the device, so the next visit
// starts from here instead of the network. Nothing else passes through it: the page, the
// API and the uploads always go to the server.
//
// What is kept: what a page has used (it posts its list once Python is ready; see
// wasm/src/assets.js), then whatever else it fetches later, such as an ffmpeg.wasm core the
// first time a plan needs one. Vendor files are immutable per build id, so a kept file is
// served as is; another build's files are dropped once a page of the new build reports in.
// Responses keep the server's headers, Cross-Origin-Resource-Policy included, as the page's
// Cross-Origin-Embedder-Policy requires.
const PREFIX = "medpress-assets-";
// Clips come first: they share the origin's storage quota with this cache, so nothing is kept
// unless the origin has this much free. (Dropping the cache when a clip does not fit would
// not help at once: Chromium frees a deleted cache's quota only later.)
const ROOM = 1024 ** 3;
const VENDOR_PATH = /^\/vendor\/([A-Za-z0-9._-]+)\//;

async function hasRoom() {
  const { quota = 0, usage = 0 } = await navigator.storage.estimate();
  return quota - usage >= ROOM;
}

const buildOf = (url) => new URL(url, location.origin).pathname.match(VENDOR_PATH)?.[1];

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("message", (event) => {
  if (event.data?.type !== "keep") return;
  const reply = event.ports[0];
  event.waitUntil(keep(event.data.urls).then(
    (count) => reply?.postMessage({ kept: count }),
    (error) => reply?.postMessage({ error: String(error?.message || error) }),
  ));
});

async function keep(urls) {
  const ours = urls.filter((url) => new URL(url).origin === location.origin && buildOf(url));
  const build = buildOf(ours[0] ?? "");
  if (!build || !(await hasRoom())) return 0;
  const cache = await caches.open(PREFIX + build);
  await Promise.all(ours.filter((url) => buildOf(url) === build).map(async (url) => {
    if (!(await cache.match(url, { ignoreVary: true }))) await cache.add(url);
  }));
  for (const name of await caches.keys()) {
    if (name.startsWith(PREFIX) && name !== PREFIX + build) await caches.delete(name);
  }
  return (await cache.keys()).length;
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const build = url.origin === location.origin && event.request.method === "GET" && buildOf(url);
  if (build) event.respondWith(fromCache(event, build));
});

async function fromCache(event, build) {
  if (!(await caches.has(PREFIX + build))) return fetch(event.request);  // no page asked for it
  const cache = await caches.open(PREFIX + build);
  const kept = await cache.match(event.request, { ignoreVary: true });
  if (kept) return kept;
  const response = await fetch(event.request);
  if (response.ok && (await hasRoom())) event.waitUntil(cache.put(event.request, response.clone()));
  return response;
}
