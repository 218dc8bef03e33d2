// Read a video's display size and duration without reading the file into memory:
// the browser's own demuxer looks at the container header through an object URL.

const PROBE_TIMEOUT_MS = 15000;

/** Resolves to {width, height, duration} or null when the browser cannot read it. */
export function probeVideo(file) {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const video = document.createElement("video");
    let settled = false;
    const finish = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      video.removeAttribute("src");
      video.load();
      URL.revokeObjectURL(url);
      resolve(result);
    };
    const timer = setTimeout(() => finish(null), PROBE_TIMEOUT_MS);
    video.preload = "metadata";
    video.muted = true;
    video.onloadedmetadata = () => {
      const ok = video.videoWidth > 0 && video.videoHeight > 0 && Number.isFinite(video.duration);
      finish(ok ? { width: video.videoWidth, height: video.videoHeight, duration: video.duration } : null);
    };
    video.onerror = () => finish(null);
    video.src = url;
  });
}
