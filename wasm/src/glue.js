// The JS surface Python calls (as `js.medpressGlue`). Thin: no decisions here.
// Async calls never reject across the boundary: they resolve to
// {ok: true, value} or {ok: false, code, detail}, which Python turns into exceptions.
import { cancelAll, probe as ffprobe, transcode } from "./ffmpeg-engine.js";
import { probeVideo } from "./probe.js";
import { showStatus } from "/js/status.js";
import { uploadBlob } from "/js/upload.js";

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
  }),
  probeVideo: settled(probeVideo),
  transcode: settled(transcode),
  ffprobe: settled(ffprobe),
  uploadBlob: settled(uploadBlob),
  cancelAll,
  showStatus,
};
