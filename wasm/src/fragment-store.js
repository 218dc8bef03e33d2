// A fragmented MP4 stored piece by piece as the muxer writes it (its bytes go to `stream`,
// cut into pieces by fragments.js), in the Origin Private File System under
// streams/<streamKey>/:
// - output.mp4: the pieces one after another (an ordinary MP4 once the last one is in);
// - manifest.json: what is in it, rewritten after each piece: {version: 1, plan: the encoder
//   options as given (scalar values only), engine, encoder: the VideoEncoder config, pieces:
//   [{index, offset, size, sha256 (hex), mediaStart, mediaEnd (s: source times of the piece's
//   first and last video frame, null without one), frames (video frames)}], done, frames,
//   quality: {sum, count} of the output's SSIM as measured so far}.
// The page reads both back to upload the pieces. Opened with `resume`, a store whose manifest
// says the same plan, engine and encoder, and is not done, goes on after its last piece: the
// bytes after it (a piece cut short) are dropped, the new muxer's init segment is checked
// against the stored one and left out, and its fragments are renumbered and re-timed to
// continue the stored ones (fragments.js). Dedicated workers only (createSyncAccessHandle).
import { sha256Hex } from "./digest.js";
import { EngineError } from "./jobs.js";
import {
  FragmentSplitter, continued, sameDescriptions, sampleCount, trackEnds, trackStarts, timescales, videoTrackId,
  withoutTrailer,
} from "./fragments.js";

const STREAM_KEY = /^[A-Za-z0-9_-]{1,64}$/;  // a random id from the caller, never a file name
const OUTPUT = "output.mp4", MANIFEST = "manifest.json";
const text = new TextEncoder();
const HELD_TRIES = 10, HELD_WAIT_MS = 200;

const scalars = (options) => Object.fromEntries(
  Object.entries(options).filter(([, value]) => value === null || typeof value !== "object"));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// Any failure of the file system (quota, a handle held elsewhere) as one stable code.
async function storing(work) {
  try {
    return await work();
  } catch (error) {
    if (error instanceof EngineError) throw error;
    console.warn("fragment store failed:", error?.name, error?.message);
    throw new EngineError("storage-failed");
  }
}

// A sync access handle on `file`; a worker stopped a moment ago (a paused clip) may still hold it.
async function openSync(file) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await file.createSyncAccessHandle();
    } catch (error) {
      if (error?.name !== "NoModificationAllowedError" || attempt >= HELD_TRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, HELD_WAIT_MS));
    }
  }
}

function readAll(handle, size = handle.getSize()) {
  const bytes = new Uint8Array(size);
  if (handle.read(bytes, { at: 0 }) !== size) throw new Error("short read");
  return bytes;
}

/** The manifest in `file`, or null if there is none (or it cannot be read). */
function manifestIn(file) {
  try {
    return JSON.parse(new TextDecoder().decode(readAll(file)));
  } catch {
    return null;
  }
}

/** What an earlier run stored that this one can go on from: {manifest, bytes (its pieces)}, or null. */
function resumable(manifest, output, { plan, engine, encoder }) {
  const usable = manifest?.version === 1 && !manifest.done && manifest.engine === engine
    && same(manifest.plan, scalars(plan)) && same(manifest.encoder, encoder) && manifest.pieces?.length >= 2;
  const size = usable ? manifest.pieces.reduce((sum, piece) => sum + piece.size, 0) : 0;
  return usable && output.getSize() >= size ? { manifest, bytes: readAll(output, size) } : null;
}

// All of `bytes` at `at` in the file behind a sync access handle.
function writeAll(handle, bytes, at) {
  if (handle.write(bytes, { at }) !== bytes.length) throw new Error("short write");
}

/**
 * The plan (encoder options) of an output kept under `streamKey` that a new run could go on
 * from (not done, at least one fragment), or null. Reads only; any thread.
 */
export async function keptPlan(streamKey) {
  try {
    const streams = await (await navigator.storage.getDirectory()).getDirectoryHandle("streams");
    const file = await (await (await streams.getDirectoryHandle(streamKey)).getFileHandle(MANIFEST)).getFile();
    const manifest = JSON.parse(await file.text());
    return !manifest.done && manifest.pieces?.length >= 2 ? manifest.plan : null;
  } catch {
    return null;
  }
}

export class FragmentStore {
  /**
   * streams/<streamKey>/, emptied; `about` {plan, engine, encoder}: the manifest's fixed
   * fields; `onPiece(entry, bytes)`: each piece's manifest entry and bytes, once it is stored. Rejects with
   * EngineError "bad-stream-key" or "storage-failed".
   */
  static async open(streamKey, about, onPiece, { resume = false } = {}) {
    if (typeof streamKey !== "string" || !STREAM_KEY.test(streamKey)) throw new EngineError("bad-stream-key");
    return storing(async () => {
      const root = await navigator.storage.getDirectory();
      const dir = await (await root.getDirectoryHandle("streams", { create: true }))
        .getDirectoryHandle(streamKey, { create: true });
      const opened = async (name) => openSync(await dir.getFileHandle(name, { create: true }));
      const output = await opened(OUTPUT), manifestFile = await opened(MANIFEST);
      const kept = resume ? resumable(manifestIn(manifestFile), output, about) : null;
      output.truncate(kept ? kept.bytes.length : 0);
      if (!kept) manifestFile.truncate(0);
      return new FragmentStore(dir, output, manifestFile, about, onPiece, kept);
    });
  }

  constructor(dir, output, manifestFile, { plan, engine, encoder }, onPiece, kept) {
    Object.assign(this, { dir, output, manifestFile, onPiece });
    this.manifest = kept?.manifest
      ?? { version: 1, plan: scalars(plan), engine, encoder, pieces: [], done: false, frames: 0, quality: null };
    this.size = kept ? kept.bytes.length : 0;
    this.splitter = new FragmentSplitter();
    this.videoTimes = [];  // the source time of each video frame muxed, in the order muxed
    this.measured = () => null;  // the quality so far, {sum, count}, for the manifest (set by the encoder)
    this.awaitingInit = true;  // the muxer's first piece is its init segment
    this.kept = kept && this.#keptPieces(kept.bytes);
    this.videoTrack = this.kept ? videoTrackId(this.kept.init) : undefined;  // read from the init segment
    this.shifts = new Map();  // track_ID → ticks added to the new muxer's decode times
    /** The muxer's byte stream (an AppendOnlyStreamTarget's): each piece is stored once whole. */
    this.stream = new WritableStream({
      write: async (chunk) => {
        for (const piece of this.splitter.push(chunk)) await this.#add(piece);
      },
      close: async () => {
        // The last fragment, with the muxer's trailer (an mfra), which indexes only what
        // this muxer made: a resumed output goes without.
        const last = this.splitter.end();
        if (last) await this.#add(this.kept ? withoutTrailer(last) : last);
      },
    });
  }

  /**
   * What was kept from an earlier run (null: nothing, this output starts from the beginning):
   * {pieces: how many, videoEnd: the source time (s) of the last video frame stored, ends:
   * each track's end in seconds of its own decode time (track_ID → s), videoTrack, quality}.
   */
  get resumed() {
    if (!this.kept) return null;
    const { pieces, frames, quality } = this.manifest;
    const ends = new Map([...this.kept.ends].map(([track, ticks]) => [track, ticks / this.kept.timescales.get(track)]));
    return { pieces: pieces.length, frames, videoEnd: pieces.findLast((piece) => piece.mediaEnd !== null)?.mediaEnd ?? 0,
      ends, videoTrack: this.videoTrack, quality };
  }

  /** Hands each kept piece to onPiece again, in order (the page uploads from the server's offset). */
  replay() {
    this.kept?.pieces.forEach(({ entry, bytes }) => this.onPiece(entry, bytes));
  }

  #keptPieces(bytes) {
    const pieces = this.manifest.pieces.map((entry) => ({ entry, bytes: bytes.subarray(entry.offset, entry.offset + entry.size) }));
    const init = pieces[0].bytes;
    return { pieces, init, ends: trackEnds(pieces.slice(1).map((piece) => piece.bytes)), timescales: timescales(init) };
  }

  /** The source time (s) of the next video frame the muxer is given (a piece's frames are the next ones). */
  muxed(time) {
    this.videoTimes.push(time);
  }

  /** Before the muxer is finalized: its last fragment, and its trailer, come next. */
  finishing() {
    this.splitter.finishing();
  }

  /** Marks the output done and closes the files; resolves to {pieces (count), size (bytes)}. */
  finish() {
    return storing(async () => {
      this.manifest.done = true;
      this.#saveManifest();
      this.close();
      return { pieces: this.manifest.pieces.length, size: this.size };
    });
  }

  /** Lets go of the files (done or not): the page may read them, or remove them. */
  close() {
    this.output.close();
    this.manifestFile.close();
  }

  /** output.mp4 as a File, once closed. */
  async file() {
    return (await this.dir.getFileHandle(OUTPUT)).getFile();
  }

  // Appends the next piece, then rewrites the manifest that lists it (the bytes are stored
  // before the manifest says so), then tells onPiece. Resumed: the new init segment must
  // describe the samples as the kept one does (else EngineError "resume-mismatch"), and is
  // left out; each fragment continues the numbering and decode times of those kept.
  #add(piece) {
    return storing(async () => {
      const init = this.awaitingInit;
      this.awaitingInit = false;
      if (init && this.kept) {
        if (!sameDescriptions(this.kept.init, piece)) throw new EngineError("resume-mismatch");
        return;
      }
      if (!piece.length) return;
      if (init) this.videoTrack = videoTrackId(piece);
      const bytes = init ? piece : continued(piece, this.manifest.pieces.length, this.#shiftsFor(piece));
      const frames = init ? 0 : sampleCount(bytes, this.videoTrack);
      const times = this.videoTimes.splice(0, frames);
      const sha256 = await sha256Hex(bytes);
      const entry = {
        index: this.manifest.pieces.length, offset: this.size, size: bytes.length, sha256,
        // the first and last in presentation order (with B-frames, not those muxed first and last)
        mediaStart: times.length ? Math.min(...times) : null, mediaEnd: times.length ? Math.max(...times) : null, frames,
      };
      writeAll(this.output, bytes, entry.offset);
      this.output.flush();
      this.size += bytes.length;
      this.manifest.pieces.push(entry);
      this.manifest.frames += frames;
      this.#saveManifest();
      this.onPiece(entry, bytes);
    });
  }

  // Per track, on its first new fragment: what moves its decode times on from the kept ones' end.
  #shiftsFor(fragment) {
    for (const [track, start] of trackStarts(fragment)) {
      if (!this.shifts.has(track)) this.shifts.set(track, this.kept?.ends.has(track) ? this.kept.ends.get(track) - start : 0);
    }
    return this.shifts;
  }

  #saveManifest() {
    this.manifest.quality = this.measured() ?? this.manifest.quality;
    const bytes = text.encode(JSON.stringify(this.manifest));
    writeAll(this.manifestFile, bytes, 0);  // overwritten in place, then cut to length
    this.manifestFile.truncate(bytes.length);
    this.manifestFile.flush();
  }
}
