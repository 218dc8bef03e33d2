// One tus upload fed while its file is still being made: a clip's fragments are sent as the
// encoder finishes them (creation-defer-length), and the length is declared with the last,
// together with what is known only then (the measured quality; the server takes
// Upload-Metadata on that PATCH). Ours rather than tus-js-client's deferred mode, which
// pulls from a reader, where here the encoder pushes.
// Each piece is sent once, in order; a failed request waits (retry.js), asks the server for
// its offset (HEAD) and sends only what it lacks. Until `finish`, the upload is never
// complete on the server, and `abort` deletes it.
// With a `key`, the file being made is kept in the Origin Private File System under
// streams/<key>/ (by its maker: fragment-store.js), and this upload's URL beside it
// (upload.json), so that after a pause or a reload the maker can go on from its last piece and
// the upload from the server's offset (`begin(true)`). Finishing or aborting removes them all.
import { MAX_ATTEMPTS, retryable, retryDelayMs } from "./retry.js";
import { describeRefusal, recordPatch } from "./upload.js";

const TUS = { "Tus-Resumable": "1.0.0" };
const live = new Set();  // streams not yet finished: leaving the page asks first
const clearing = new Map();  // key → the removal of what an ended stream kept under it
const UPLOAD = "upload.json";
const REMOVE_TRIES = 10, REMOVE_WAIT_MS = 200;  // a stopped worker lets go of its files soon after

window.addEventListener("beforeunload", (event) => {
  if (live.size) event.preventDefault();
});

/** tus Upload-Metadata: `key base64(UTF-8 value)` pairs. */
export function encodeMetadata(metadata) {
  return Object.entries(metadata).map(([key, value]) => {
    const bytes = new TextEncoder().encode(String(value));
    return `${key} ${btoa(String.fromCharCode(...bytes))}`;
  }).join(",");
}

class UploadError extends Error {
  constructor(status, body = "") {
    super(describeRefusal(status, body));  // plain language, never a file name
    this.status = status;
    this.code = "upload-failed";
    this.detail = this.message;
  }
}

export class StreamUpload {
  constructor(metadata, { endpoint = "/files/", key = null } = {}) {
    this.metadata = metadata;
    this.key = key;
    /** Resolves once what an earlier stream under this key kept is cleared away. */
    this.ready = clearing.get(key) ?? Promise.resolve();
    this.onProgress = null;  // (sent, total) while `finish` sends what is left
    this.endpoint = new URL(endpoint, location.href).href;
    this.url = null;
    this.offset = 0;  // what the server holds
    this.queued = 0;  // what has been handed to us
    this.failure = null;
    this.aborted = new AbortController();
    this.chain = Promise.resolve();
    live.add(this);
  }

  /**
   * Before the first piece: whether the pieces kept under the key are being continued
   * (`resumed`: go on with the upload begun for them, from the server's offset; if the server
   * no longer has it, a new one is made) or not (an upload begun earlier is deleted). Either
   * way every piece is then appended from the first: what the server holds is not sent again.
   */
  begin(resumed) {
    this.#then(async () => {
      const kept = this.key && await keptUrl(this.key);
      if (!kept) return;
      if (!resumed) {
        fetch(kept, { method: "DELETE", headers: TUS }).catch(() => {});
        return;
      }
      this.url = kept;
      // Gone (expired, deleted): start anew. Unreachable: the first piece's retries find out.
      if (!(await this.#serverOffset().catch(() => true))) this.url = null;
    });
  }

  /**
   * After a reload, the whole output (`blob`) of a stream whose encode was over: resolves to
   * the URL if the upload kept under the key is complete already, true once the rest of
   * `blob` is queued after what the server holds (`finish` then completes it), false if there
   * is no such upload (any other may take its place).
   */
  async continueWith(blob) {
    const found = await this.#kept(blob);
    if (found === true) this.append(blob);
    else live.delete(this);  // nothing to continue: this stream is done with
    return found;
  }

  async #kept(blob) {
    const kept = this.key && await keptUrl(this.key);
    const response = kept && await this.#request(kept, "HEAD", {}).catch(() => null);
    if (!response?.ok) return false;
    const offset = Number(response.headers.get("Upload-Offset"));
    const length = response.headers.get("Upload-Length");
    if (length !== null && Number(length) === offset) return kept;  // finished before the reload
    if (length !== null || offset > blob.size) return false;  // not this output's
    Object.assign(this, { url: kept, offset });
    return true;
  }

  /** Queue a piece (Blob, ArrayBuffer or typed array) to be sent after the ones before. */
  append(piece) {
    const blob = piece instanceof Blob ? piece : new Blob([piece]);
    const start = this.queued;
    this.queued += blob.size;
    this.#then(() => this.#send(blob, start));
  }

  /**
   * Send what is queued, declare the length with `metadata`; resolves to the upload URL.
   * `onProgress(sent, total)` follows what is still to send.
   */
  async finish(metadata = {}, onProgress = null) {
    this.onProgress = onProgress;
    onProgress?.(this.offset, this.queued);
    this.#then(() => this.#send(new Blob([]), this.queued, {
      "Upload-Length": String(this.queued), "Upload-Metadata": encodeMetadata(metadata),
    }));
    await this.chain;
    live.delete(this);
    if (this.aborted.signal.aborted) throw new UploadError(0);  // stopped before: nothing was declared
    if (this.failure) throw this.failure;
    this.#clear();
    return this.url;
  }

  /** Stop, and ask the server to delete what it received (it expires anyway if that fails). */
  async abort() {
    live.delete(this);
    this.aborted.abort();
    await this.chain.catch(() => {});
    this.#clear();
    if (this.url) await fetch(this.url, { method: "DELETE", headers: TUS }).catch(() => {});
  }

  /** Stop sending, keeping the upload and what the key holds: a later stream goes on from them. */
  suspend() {
    live.delete(this);
    this.aborted.abort();
  }

  #clear() {
    if (!this.key) return;
    const key = this.key;
    const removal = removeKept(key).finally(() => {
      if (clearing.get(key) === removal) clearing.delete(key);
    });
    clearing.set(key, removal);
  }

  #then(step) {
    this.chain = this.chain.then(async () => {
      if (this.failure || this.aborted.signal.aborted) return;
      try {
        await step();
      } catch (error) {
        this.failure = error;
      }
    });
  }

  async #create() {
    const response = await this.#request(this.endpoint, "POST", {
      "Upload-Defer-Length": "1", "Upload-Metadata": encodeMetadata(this.metadata),
    });
    if (response.status !== 201) throw await failed(response);
    this.url = new URL(response.headers.get("Location"), this.endpoint).href;
    if (this.key) await writeKept(this.key, UPLOAD, { url: this.url }).catch(() => {});  // at worst, a reload starts over
  }

  // `blob` holds the bytes from `start` on; send whatever of them the server lacks.
  async #send(blob, start, headers = {}) {
    if (this.offset >= start + blob.size && !headers["Upload-Length"]) return;  // the server has it
    let attempt = 0;
    for (;;) {
      try {
        if (!this.url) await this.#create();
        const body = blob.slice(this.offset - start);
        const started = performance.now();
        const response = await this.#request(this.url, "PATCH", {
          "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(this.offset), ...headers,
        }, body);
        if (response.status !== 204) throw await failed(response);
        const offset = Number(response.headers.get("Upload-Offset"));
        recordPatch(offset - this.offset, (performance.now() - started) / 1000);
        this.offset = offset;
        this.onProgress?.(offset, this.queued);
        return;
      } catch (error) {
        if (this.aborted.signal.aborted || !retryable(error.status) || attempt >= MAX_ATTEMPTS) throw error;
        await this.#wait(retryDelayMs(attempt++, error.retryAfter));
        if (this.url) await this.#serverOffset().catch(() => {});
      }
    }
  }

  // The server's offset, if it still has the upload (true).
  async #serverOffset() {
    const response = await this.#request(this.url, "HEAD", {});
    if (response.ok) this.offset = Number(response.headers.get("Upload-Offset"));
    return response.ok;
  }

  // The back-off, then (offline) the return of the network; `abort` cuts either short.
  async #wait(ms) {
    const { signal } = this.aborted;
    const until = (register) => new Promise((resolve) => {
      signal.addEventListener("abort", resolve, { once: true });
      register(resolve);
    });
    await until((resolve) => setTimeout(resolve, ms));
    if (navigator.onLine === false && !signal.aborted) {
      await until((resolve) => window.addEventListener("online", resolve, { once: true }));
    }
  }

  #request(url, method, headers, body = null) {
    return fetch(url, { method, headers: { ...TUS, ...headers }, body, signal: this.aborted.signal })
      .catch((error) => {
        throw this.aborted.signal.aborted ? error : new UploadError(0);
      });
  }
}

async function failed(response) {
  const error = new UploadError(response.status, await response.text().catch(() => ""));
  error.retryAfter = response.headers.get("Retry-After");
  return error;
}

// What is kept under streams/<key>/ in the Origin Private File System, for the page's side
// (the worker writes output.mp4 and manifest.json: fragment-store.js).
const streamsDir = async (create = false) =>
  (await navigator.storage.getDirectory()).getDirectoryHandle("streams", { create });

/** The file `name` kept under streams/<key>/, or null. */
export async function keptFile(key, name) {
  try {
    return await (await (await (await streamsDir()).getDirectoryHandle(key)).getFileHandle(name)).getFile();
  } catch {
    return null;
  }
}

/** The JSON kept in streams/<key>/<name>, or null (none, or unreadable). */
export async function readKept(key, name) {
  try {
    return JSON.parse(await (await keptFile(key, name)).text());
  } catch {
    return null;
  }
}

/** Keeps `value` as JSON in streams/<key>/<name>. */
export async function writeKept(key, name, value) {
  const dir = await (await streamsDir(true)).getDirectoryHandle(key, { create: true });
  const writable = await (await dir.getFileHandle(name, { create: true })).createWritable();
  await writable.write(JSON.stringify(value));
  await writable.close();
}

/** The keys under streams/. */
export async function keptKeys() {
  const keys = [];
  for await (const [name, handle] of (await streamsDir(true)).entries()) if (handle.kind === "directory") keys.push(name);
  return keys;
}

const keptUrl = async (key) => (await readKept(key, UPLOAD))?.url ?? null;

/** Removes streams/<key>/, waiting a little for a stopped worker to let go of its files. */
export async function removeKept(key) {
  for (let attempt = 0; attempt < REMOVE_TRIES; attempt++) {
    try {
      await (await streamsDir()).removeEntry(key, { recursive: true });
      return;
    } catch (error) {
      if (error?.name === "NotFoundError") return;
      await new Promise((resolve) => setTimeout(resolve, REMOVE_WAIT_MS));
    }
  }
}
