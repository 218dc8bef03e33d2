// Recording from the camera, page side: the camera and microphone (getUserMedia), a live
// preview, and capture-worker.js, which encodes and stores the recording as fragmented MP4
// while it is made. Each stored piece is appended at once to a tus upload
// (public/js/stream-upload.js) kept under the recording's random key, so a recording is
// mostly on the server by the time Stop is pressed, and a reload loses nothing stored:
// streams/<key>/ in the Origin Private File System holds the pieces (output.mp4 and its
// manifest.json, fragment-store.js), the upload's URL (upload.json, stream-upload.js) and
// what Python needs to finish it (recording.json). Keys are "rec-" and a random UUID.
import { StreamUpload, keptFile, keptKeys, readKept, removeKept, writeKept } from "/js/stream-upload.js";

const WORKER = new URL("./capture-worker.js", import.meta.url);
const ABOUT = "recording.json";
const PREFIX = "rec-";
const HEAD_PIECES = 2;  // the init segment and the first fragment: enough for a poster frame

class CaptureError extends Error {
  constructor(code, detail = code) {
    super(detail);
    this.code = code;
    this.detail = detail;
  }
}

/** Whether this device has a camera (labels and ids are not needed, so no permission is asked). */
export async function hasCamera() {
  try {
    const devices = await navigator.mediaDevices.enumerateDevices();
    return devices.some((device) => device.kind === "videoinput")
      && typeof MediaStreamTrackProcessor !== "undefined" && typeof VideoEncoder !== "undefined";
  } catch {
    return false;
  }
}

/** AudioEncoder's codec for a recording: AAC where the browser encodes it, else Opus; null: none. */
export async function audioCodec(sampleRate = 48000, numberOfChannels = 1) {
  if (typeof AudioEncoder === "undefined") return null;
  for (const codec of ["mp4a.40.2", "opus"]) {
    try {
      if ((await AudioEncoder.isConfigSupported({ codec, sampleRate, numberOfChannels, bitrate: 96000 })).supported) return codec;
    } catch { /* not this one */ }
  }
  return null;
}

const preview = () => document.querySelector('[data-testid="camera-preview"]');

/**
 * The camera (at about `width` x `height`) and the microphone, shown in the page's preview.
 * Resolves to {stream, settings: {width, height, frameRate}}; rejects with code
 * "camera-denied" or "camera-unavailable".
 */
export async function openCamera({ width, height }) {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: width }, height: { ideal: height } }, audio: true,
    });
  } catch (error) {
    const denied = error?.name === "NotAllowedError" || error?.name === "SecurityError";
    throw new CaptureError(denied ? "camera-denied" : "camera-unavailable", error?.name || "error");
  }
  const { width: w, height: h, frameRate } = stream.getVideoTracks()[0].getSettings();
  const video = preview();
  if (video) {
    video.srcObject = stream;
    video.hidden = false;
    video.play().catch(() => {});
  }
  return { stream, settings: { width: w, height: h, frameRate: frameRate || 30 } };
}

/** Lets go of the camera and the microphone (their lights go off). */
export function closeCamera(camera) {
  for (const track of camera.stream.getTracks()) track.stop();
  const video = preview();
  if (video && video.srcObject === camera.stream) {
    video.srcObject = null;
    video.hidden = true;
  }
}

class Recording {
  constructor(camera, key, metadata) {
    this.camera = camera;
    this.key = key;
    this.stream = new StreamUpload(metadata, { key });
    this.head = [];
    this.worker = new Worker(WORKER, { type: "module" });
    this.waiting = null;  // {types, resolve, reject}: the next message of one of these types
    this.failure = null;
    this.failed = new Promise((resolve) => { this.onFailure = resolve; });  // resolves to a code
    this.worker.onmessage = ({ data }) => this.#message(data);
    this.worker.onerror = () => this.#message({ type: "error", code: "recording-failed" });
  }

  #message(data) {
    if (data.type === "fragment") {
      if (data.index < HEAD_PIECES) this.head.push(data.bytes);
      this.stream.append(data.bytes);
      return;
    }
    if (data.type === "error") {
      this.failure ??= data.code;
      this.onFailure(data.code);
    }
    const waiting = this.waiting;
    if (!waiting) return;
    if (data.type === "error") waiting.reject(new CaptureError(data.code));
    else if (waiting.types.includes(data.type)) waiting.resolve(data);
    else return;
    this.waiting = null;
  }

  #next(...types) {
    if (this.failure) return Promise.reject(new CaptureError(this.failure));
    return new Promise((resolve, reject) => { this.waiting = { types, resolve, reject }; });
  }

  async start(options) {
    const [videoTrack] = this.camera.stream.getVideoTracks();
    const [audioTrack] = this.camera.stream.getAudioTracks();
    const audio = Boolean(audioTrack && options.audio.codec);
    const started = this.#next("started");
    this.worker.postMessage({ type: "start", audio, options });
    // Read here and posted one by one: a processor's stream transferred to the worker pulls
    // each sample with a round trip through this (busy) thread, and fell behind the microphone.
    this.pumps = [this.#pump(videoTrack, "video"), audio ? this.#pump(audioTrack, "audio") : null];
    await started;
  }

  async #pump(track, kind) {
    const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
    this.readers = [...(this.readers ?? []), reader];
    for (;;) {
      const { value: sample, done } = await reader.read();
      if (done) break;
      if (this.ended) {
        sample.close();
        break;
      }
      this.worker.postMessage({ type: "sample", kind, sample }, [sample]);
    }
  }

  // No more samples: stop reading (what was read is posted already).
  #endSamples() {
    this.ended = true;
    for (const reader of this.readers ?? []) reader.cancel().catch(() => {});
  }

  /**
   * Ends the recording at `at` (ms, performance.now() of this page: when Stop was pressed):
   * {pieces, size, duration (s), head (a Blob: its first fragment)}.
   */
  async stop(at = performance.now()) {
    try {
      this.#endSamples();
      const done = this.#next("done");
      this.worker.postMessage({ type: "stop", at: performance.timeOrigin + at });
      const { pieces, size, duration } = await done;
      return { pieces, size, duration, head: new Blob(this.head, { type: "video/mp4" }) };
    } finally {
      closeCamera(this.camera);
      this.worker.terminate();
    }
  }

  /** After a failure: stop sending (what is stored is finished by `resumeRecording`). */
  letGo() {
    this.#endSamples();
    closeCamera(this.camera);
    this.worker.terminate();
    this.stream.suspend();
  }
}

/**
 * Starts recording from `camera` (openCamera's) into streams/<key>/, uploading as it goes.
 * `options`: {video: VideoEncoderConfig + keyIntervalS, audioBitrate}; `metadata`: the
 * upload's; `about`: kept in recording.json for a reload. Resolves to the Recording once its
 * first frame is being encoded (its `stream` is the upload; `stop()` ends it; `failed`
 * resolves to a code if it fails meanwhile).
 */
export async function startRecording(camera, key, options, metadata, about) {
  if (!key.startsWith(PREFIX)) throw new CaptureError("bad-stream-key");
  const codec = await audioCodec();
  await writeKept(key, ABOUT, { ...about, metadata, audioCodec: codec });
  const recording = new Recording(camera, key, metadata);
  try {
    await recording.start({
      streamKey: key, video: options.video, audio: { codec, bitrate: options.audioBitrate },
    });
  } catch (error) {
    recording.letGo();
    recording.stream.abort();
    await forgetRecording(key);
    throw error;
  }
  return recording;
}

export function stopRecording(recording, at) {
  return recording.stop(at ?? undefined);
}

/** The keys of recordings a reload (or a failure) interrupted, with what was kept about each. */
export async function interruptedRecordings() {
  const found = [];
  for (const key of (await keptKeys()).filter((name) => name.startsWith(PREFIX))) {
    const about = await readKept(key, ABOUT);
    if (about) found.push({ key, about });
    else await forgetRecording(key);  // it never got as far as its first piece
  }
  return found;
}

/**
 * Continues the upload of an interrupted recording from the server's offset with every piece
 * stored whole (the manifest lists a piece once its bytes are in; bytes after the last one
 * listed are cut off). Resolves to {stream (to finish), pieces, size, duration, head}; rejects
 * with code "nothing-stored" if not even the first fragment was stored (the key is forgotten).
 */
export async function resumeRecording(key) {
  const about = await readKept(key, ABOUT);
  const pieces = (await readKept(key, "manifest.json"))?.pieces ?? [];
  if (pieces.length < 2) {  // the init segment alone is no recording
    await forgetRecording(key);
    throw new CaptureError("nothing-stored");
  }
  const last = pieces.at(-1);
  const size = last.offset + last.size;
  const file = (await keptFile(key, "output.mp4")).slice(0, size);
  const stream = new StreamUpload(about.metadata, { key });
  stream.begin(true);  // the upload begun before the reload, from the server's offset
  for (const piece of pieces) stream.append(file.slice(piece.offset, piece.offset + piece.size));
  const headEnd = pieces[Math.min(HEAD_PIECES, pieces.length) - 1];
  const frame = 1 / (about.fps || 30);
  return {
    stream, pieces: pieces.length, size, duration: (last.mediaEnd ?? 0) + frame,
    head: file.slice(0, headEnd.offset + headEnd.size, "video/mp4"),
  };
}

/** Removes streams/<key>/ (the upload itself finishes or expires on the server). */
export const forgetRecording = removeKept;
