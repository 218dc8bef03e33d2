// Asks the service worker (public/sw.js) to keep this build's assets on the device: the ones
// this page has used so far. Called once Python is ready, so the list holds its whole start.
// For QA: <html data-assets="kept"> once they are kept, "unkept" where they cannot be (no
// service worker, too little free storage: clips need it more, or an error).

const mark = (state) => { document.documentElement.dataset.assets = state; };

export async function keepAssets() {
  if (!("serviceWorker" in navigator) || !isSecureContext) return mark("unkept");
  try {
    await navigator.serviceWorker.register("/sw.js");
    const worker = (await navigator.serviceWorker.ready).active;
    const vendor = `${location.origin}${document.documentElement.dataset.vendor}/`;
    const urls = performance.getEntriesByType("resource").map((entry) => entry.name)
      .filter((url) => url.startsWith(vendor));
    const channel = new MessageChannel();
    const answer = new Promise((resolve) => { channel.port1.onmessage = ({ data }) => resolve(data); });
    worker.postMessage({ type: "keep", urls }, [channel.port2]);
    const { kept, error } = await answer;
    if (error) throw new Error(error);
    mark(kept ? "kept" : "unkept");
  } catch (error) {
    console.warn("medpress: the assets could not be kept on this device:", error?.message);
    mark("unkept");
  }
}
