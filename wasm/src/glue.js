// The JS surface Python calls (as `js.medpressGlue`). Thin: no decisions here.
// Async calls never reject across the boundary: they resolve to
// {ok: true, value} or {ok: false, code, detail}, which Python turns into exceptions.
import {
  probe as ffprobe, prepare as prepareFfmpeg, release as releaseFfmpeg, transcode as transcodeFfmpeg,
} from "./ffmpeg-engine.js";
import { encodePhoto, posterFrame } from "./image-engine.js";
import { cancelAll, engineSeconds, pauseEngines, resumeEngines } from "./jobs.js";
import { probeMedia } from "./probe.js";
import { stripMetadata } from "./remux-engine.js";
import { canEncode, transcodeWebCodecs } from "./webcodecs-engine.js";
import { flushEvents, recordEvent } from "./analytics.js";
import { hiddenForSeconds, watchDevice } from "./device.js";
import { fingerprint } from "./fingerprint.js";
import * as keep from "./keep.js";
import { originalReason, sendOriginal, setQueuedFiles } from "/js/originals.js";
import {
  askToNotify, notifyAllArrived, removeItem, renderItem, renderNotices, renderStorage, renderSummary,
  setWorkPending,
} from "/js/queue-view.js";
import { showStatus } from "/js/status.js";
import { isBypassed, uploadBlob } from "/js/upload.js";

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
  canEncode,
  probeMedia: settled(probeMedia),
  ffprobe: settled(ffprobe),
  prepareFfmpeg,
  releaseFfmpeg,
  transcodeFfmpeg: settled(transcodeFfmpeg),
  transcodeWebCodecs: settled(transcodeWebCodecs),
  stripMetadata: settled(stripMetadata),
  encodePhoto: settled(encodePhoto),
  posterFrame: settled(posterFrame),
  uploadBlob: settled(uploadBlob),
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
};
