// Browser storage for the queue (Python decides what; this only stores and reads back):
// - IndexedDB "medpress": the queue's state (one record), each clip's original File where
//   the quota allows, and each clip's tus URL under its name-free fingerprint;
// - the Origin Private File System: compressed outputs, one file per clip id (and a streamed
//   output while it is made, under streams/<clip id>/: public/js/stream-upload.js).
// Keys are random clip ids and fingerprints: never a file name.
import { keptKeys, removeKept } from "/js/stream-upload.js";

const DB_NAME = "medpress";
const STORES = ["state", "originals", "uploads"];
const OUTPUTS = "outputs";  // OPFS directory
const HEADROOM = 1.2;  // keep an original only when the quota has room for it and then some

let opening = null;

function database() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => STORES.forEach((name) => request.result.createObjectStore(name));
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opening;
}

async function run(store, mode, action) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const request = action(tx.objectStore(store));
    tx.oncomplete = () => resolve(request?.result ?? null);
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
}

const put = (store, key, value) => run(store, "readwrite", (s) => s.put(value, key));
const get = (store, key) => run(store, "readonly", (s) => s.get(key));
const remove = (store, key) => run(store, "readwrite", (s) => s.delete(key));

export const saveState = (text) => put("state", "queue", text);
export const loadState = async () => (await get("state", "queue")) ?? "";

/** Keep a copy of the original File, if the browser's quota has room; true if kept. */
export async function keepOriginal(id, file) {
  const { quota = 0, usage = 0 } = await navigator.storage.estimate();
  if (quota - usage < file.size * HEADROOM) return false;
  try {
    await put("originals", id, file);
    return true;
  } catch {
    return false;  // QuotaExceededError and the like: the clip is asked for again if needed
  }
}
export const readOriginal = (id) => get("originals", id);

export const rememberUpload = (fingerprint, url) => put("uploads", fingerprint, url);
export const uploadFor = (fingerprint) => get("uploads", fingerprint);

async function outputs() {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(OUTPUTS, { create: true });
}

/** Write a compressed output to OPFS; true if it was written whole. */
export async function keepOutput(id, blob) {
  try {
    const handle = await (await outputs()).getFileHandle(id, { create: true });
    const writable = await handle.createWritable();
    await blob.stream().pipeTo(writable);  // closes the file when done
    return true;
  } catch {
    return false;
  }
}

export async function readOutput(id) {
  try {
    return await (await (await outputs()).getFileHandle(id)).getFile();
  } catch {
    return null;
  }
}

/** Free what a clip held (it arrived, or was removed from the list). */
export async function forget(id) {
  await remove("originals", id).catch(() => {});
  await (await outputs()).removeEntry(id).catch(() => {});
  await removeKept(id);
}

/** Bytes this page holds in storage, and the browser's quota for it. */
export async function usage() {
  const { quota = 0, usage = 0 } = await navigator.storage.estimate();
  return { usage, quota };
}

/** Free every kept original and output but those of `ids` (left over by a closed page). */
export async function forgetAllBut(ids) {
  const keep = new Set(ids);
  const keys = await run("originals", "readonly", (s) => s.getAllKeys());
  const names = [];
  for await (const name of (await outputs()).keys()) names.push(name);
  // Recordings keep their own (rec-…): they are finished on load, not by the queue.
  names.push(...(await keptKeys()).filter((name) => !name.startsWith("rec-")));
  await Promise.all([...new Set([...keys, ...names])].filter((id) => !keep.has(id)).map(forget));
}
