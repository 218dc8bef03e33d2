// The JS surface Python calls (as `js.medpressGlue`). Thin: no decisions here.
// Async calls never reject across the boundary: they resolve to
// {ok: true, value} or {ok: false, code, detail}, which Python turns into exceptions.
// The engines (and mediabunny and ffmpeg.wasm behind them) load on first use, not with the
// page: a shorter module graph lets the page, and Python's start, get going sooner.
import { cancelAll, engineSeconds, pauseEngines, releaseSpares, resumeEngines } from "./jobs.js";
import { flushEvents, recordEvent } from "./analytics.js";
import { keepAssets } from "./assets.js";
import { hiddenForSeconds, watchDevice } from "./device.js";
import { fingerprint } from "./fingerprint.js";
import * as keep from "./keep.js";
import { originalReason, sendOriginal, setQueuedFiles } from "/js/originals.js";
import {
  askToNotify, notifyAllArrived, removeItem, renderItem, renderNotices, renderStorage, renderSummary,
  setWorkPending,
} from "/js/queue-view.js";
import { takeEarlyStart } from "/js/start-early.js";
import { showStatus } from "/js/status.js";
import { StreamUpload } from "/js/stream-upload.js";
import { isBypassed, uplinkSamples, uploadBlob } from "/js/upload.js";

/** Browser, its major version as semver, and the kind of device: for flag conditions. */
function browserFacts() {
  const ua = navigator.userAgent;
  const [, browser, major] = ua.match(/(Firefox|Edg|OPR|Chrome|Version)\/(\d+)/) ?? [, "other", "0"];
  const names = { Edg: "edge", OPR: "opera", Chrome: "chromium", Firefox: "firefox", Version: "safari" };
  const mobile = navigator.userAgentData?.mobile ?? /Mobi|Android|iPhone/.test(ua);
  const tablet = /iPad|Tablet/.test(ua) || (/Android/.test(ua) && !/Mobi/.test(ua));
  return {
    browser: names[browser] ?? "other",
    browserVersion: `${major}.0.0`,
    deviceType: tablet ? "tablet" : mobile ? "phone" : "desktop",
  };
}

/** `name` from the module at `path`, imported on the first call. */
const later = (path, name) => async (...args) => (await import(path))[name](...args);

const ffmpeg = {
  probe: later("./ffmpeg-engine.js", "probe"),
  transcode: later("./ffmpeg-engine.js", "transcode"),
  prepare: later("./ffmpeg-engine.js", "prepare"),  // warms the worker: nobody waits for it
  release: later("./ffmpeg-engine.js", "release"),
};

const settled = (fn) => async (...args) => {
  try {
    return { ok: true, value: (await fn(...args)) ?? undefined };  // JS null → Python None
  } catch (error) {
    return { ok: false, code: error?.code || "error", detail: error?.detail || String(error?.message || error) };
  }
};

globalThis.medpressGlue = {
  capabilities: () => ({
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    cores: navigator.hardwareConcurrency || 1,
    deviceMemoryGb: navigator.deviceMemory || 0,
    webcodecs: typeof VideoEncoder !== "undefined",
    query: location.search,
    ...browserFacts(),
  }),
  canEncode: later("./webcodecs-engine.js", "canEncode"),
  probeMedia: settled(later("./probe.js", "probeMedia")),
  ffprobe: settled(ffmpeg.probe),
  prepareFfmpeg: ffmpeg.prepare,
  releaseFfmpeg: ffmpeg.release,
  transcodeFfmpeg: settled(ffmpeg.transcode),
  prepareWebCodecs: later("./webcodecs-engine.js", "prepareWebCodecs"),  // a worker loading ahead
  releaseSpares,
  transcodeWebCodecs: settled(later("./webcodecs-engine.js", "transcodeWebCodecs")),
  probeWebCodecs: settled(later("./webcodecs-engine.js", "probeRates")),
  stripMetadata: settled(later("./remux-engine.js", "stripMetadata")),
  encodePhoto: settled(later("./image-engine.js", "encodePhoto")),
  posterFrame: settled(later("./image-engine.js", "posterFrame")),
  uploadBlob: settled(uploadBlob),
  uplinkSamples,
  openStream: (metadata, key) => new StreamUpload(metadata, { key }),
  keptStreamPlan: settled(later("./fragment-store.js", "keptPlan")),
  finishStream: settled((stream, metadata, onProgress) => stream.finish(metadata, onProgress)),
  continueStream: settled((stream, blob) => stream.continueWith(blob)),
  camera: {  // recording in the page (capture.js)
    available: later("./capture.js", "hasCamera"),
    open: settled(later("./capture.js", "openCamera")),
    close: later("./capture.js", "closeCamera"),
    start: settled(later("./capture.js", "startRecording")),
    stop: settled(later("./capture.js", "stopRecording")),
    interrupted: settled(later("./capture.js", "interruptedRecordings")),
    resume: settled(later("./capture.js", "resumeRecording")),
    forget: later("./capture.js", "forgetRecording"),
  },
  isBypassed,
  originalReason,
  sendOriginal: settled(sendOriginal),
  setQueuedFiles,
  fingerprint: settled(fingerprint),
  keep: Object.fromEntries(Object.entries(keep).map(([name, fn]) => [name, settled(fn)])),
  cancelAll,
  showStatus,
  renderItem,
  removeItem,
  renderSummary,
  renderNotices,
  renderStorage,
  notifyAllArrived,
  askToNotify,
  setWorkPending,
  now: engineSeconds,  // frozen and paused time left out (budgets, rates)
  pauseEngines,
  resumeEngines,
  watchDevice,
  hiddenForSeconds,
  recordEvent,
  flushEvents,
  keepAssets,
  takeEarlyStart,
};
