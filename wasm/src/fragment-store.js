// A fragmented MP4 stored piece by piece as the muxer writes it (its bytes go to `stream`,
// cut into pieces by fragments.js), in the Origin Private File System under
// streams/<streamKey>/:
// - output.mp4: the pieces one after another (an ordinary MP4 once the last one is in);
// - manifest.json: what is in it, rewritten after each piece: {version: 1, plan: the encoder
//   options as given (scalar values only), engine, encoder: the VideoEncoder config, pieces:
//   [{index, offset, size, sha256 (hex), mediaStart, mediaEnd (s: source times of the piece's
//   first and last video frame, null without one), frames (video frames)}], done, frames}.
// The page reads both back to upload the pieces (and, later, to resume an encode from the first
// GOP not stored). Dedicated workers only (createSyncAccessHandle).
import { sha256Hex } from "./digest.js";
import { EngineError } from "./jobs.js";
import { FragmentSplitter, sampleCount, videoTrackId } from "./fragments.js";

const STREAM_KEY = /^[A-Za-z0-9_-]{1,64}$/;  // a random id from the caller, never a file name
const OUTPUT = "output.mp4";
const text = new TextEncoder();

const scalars = (options) => Object.fromEntries(
  Object.entries(options).filter(([, value]) => value === null || typeof value !== "object"));

// Any failure of the file system (quota, a handle held elsewhere) as one stable code.
async function storing(work) {
  try {
    return await work();
  } catch (error) {
    console.warn("fragment store failed:", error?.name, error?.message);
    throw new EngineError("storage-failed");
  }
}

// All of `bytes` at `at` in the file behind a sync access handle.
function writeAll(handle, bytes, at) {
  if (handle.write(bytes, { at }) !== bytes.length) throw new Error("short write");
}

export class FragmentStore {
  /**
   * streams/<streamKey>/, emptied; `about` {plan, engine, encoder}: the manifest's fixed
   * fields; `onPiece(entry, bytes)`: each piece's manifest entry and bytes, once it is stored. Rejects with
   * EngineError "bad-stream-key" or "storage-failed".
   */
  static async open(streamKey, about, onPiece) {
    if (typeof streamKey !== "string" || !STREAM_KEY.test(streamKey)) throw new EngineError("bad-stream-key");
    return storing(async () => {
      const root = await navigator.storage.getDirectory();
      const dir = await (await root.getDirectoryHandle("streams", { create: true }))
        .getDirectoryHandle(streamKey, { create: true });
      const opened = async (name) => {
        const handle = await (await dir.getFileHandle(name, { create: true })).createSyncAccessHandle();
        handle.truncate(0);
        return handle;
      };
      return new FragmentStore(dir, await opened(OUTPUT), await opened("manifest.json"), about, onPiece);
    });
  }

  constructor(dir, output, manifestFile, { plan, engine, encoder }, onPiece) {
    Object.assign(this, { dir, output, manifestFile, onPiece });
    this.manifest = { version: 1, plan: scalars(plan), engine, encoder, pieces: [], done: false, frames: 0 };
    this.size = 0;
    this.splitter = new FragmentSplitter();
    this.videoTimes = [];  // the source time of each video frame muxed, in order
    this.videoTrack = undefined;  // its track_ID, read from the init segment (the first piece)
    /** The muxer's byte stream (an AppendOnlyStreamTarget's): each piece is stored once whole. */
    this.stream = new WritableStream({
      write: async (chunk) => {
        for (const piece of this.splitter.push(chunk)) await this.#add(piece);
      },
      close: async () => {
        const last = this.splitter.end();  // the last fragment, with the muxer's trailer (mfra)
        if (last) await this.#add(last);
      },
    });
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
  // before the manifest says so), then tells onPiece.
  #add(bytes) {
    return storing(async () => {
      const init = this.videoTrack === undefined;
      if (init) this.videoTrack = videoTrackId(bytes);
      const frames = init ? 0 : sampleCount(bytes, this.videoTrack);
      const times = this.videoTimes.splice(0, frames);
      const sha256 = await sha256Hex(bytes);
      const piece = {
        index: this.manifest.pieces.length, offset: this.size, size: bytes.length, sha256,
        mediaStart: times.length ? times[0] : null, mediaEnd: times.length ? times.at(-1) : null, frames,
      };
      writeAll(this.output, bytes, piece.offset);
      this.output.flush();
      this.size += bytes.length;
      this.manifest.pieces.push(piece);
      this.manifest.frames += frames;
      this.#saveManifest();
      this.onPiece(piece, bytes);
    });
  }

  #saveManifest() {
    const bytes = text.encode(JSON.stringify(this.manifest));
    writeAll(this.manifestFile, bytes, 0);  // overwritten in place, then cut to length
    this.manifestFile.truncate(bytes.length);
    this.manifestFile.flush();
  }
}
