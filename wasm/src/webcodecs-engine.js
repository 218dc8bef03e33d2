// WebCodecs engine, main-thread side: runs webcodecs-worker.js for one video.
import { spareWorker, workerJob } from "./jobs.js";
import { StreamFeed } from "./stream-feed.js";

const WORKER = new URL("./webcodecs-worker.js", import.meta.url);

/**
 * Resolves to {blob, ssim, ssimMethod, bitrates}: the output MP4, its SSIM against the source
 * (ssimMethod "yuv": ffmpeg's, on luma, of sampled frames against the pre-scaled frames the
 * encoder was given; "canvas": the fallback estimate through RGB canvases; ssim null if no
 * frame could be compared) and the bitrate of each keyframe interval; `onTime(seconds)`
 * reports encoded media time.
 *
 * With `steer(bitrate, ssim, mean, done)`, the bitrate is steered: at each keyframe the worker
 * gives it the latest interval measured (encoded at `bitrate`, read `ssim`), the mean read so
 * far and the share of the clip it covers, and encodes the next interval at the bitrate it
 * returns (a Python function: rate.steered_bitrate).
 *
 * With `encoder.abandonBelow` (an SSIM), the worker gives up once the first 2 s of output
 * are clearly below it: the promise rejects with EngineError "below-floor", whose `ssim`
 * (their mean), `frames` (how many), `seconds` (the last one's media time) and `reached`
 * (the media time the encoder had been given when it stopped) say what was measured, and
 * whose `detail` is the same as JSON, which glue.js passes on to Python.
 *
 * With `stream` (a StreamUpload, public/js/stream-upload.js), every piece of the output is
 * appended to it while the encode goes on. The pieces are kept in the Origin Private File
 * System under the stream's key (fragment-store.js): a later run with the same key and the same
 * encoder settings goes on after the last piece kept (`resume: false` in `encoder` starts over),
 * and the stream continues its upload. The stream removes them once it is finished or aborted.
 */
export async function transcodeWebCodecs(file, { encoder, stallMs, onTime, steer = null, stream = null }) {
  let verdict = null;
  // Streamed: the worker writes fragmented MP4 and hands over each piece (the init segment,
  // then one fragment per GOP) as soon as it is stored; each goes to the upload at once.
  const feed = stream ? new StreamFeed(stream) : null;
  const options = { ...encoder, steer: steer !== null, ...(stream && { fragments: true, streamKey: stream.key }) };
  await stream?.ready;  // what an earlier attempt under this key left is cleared first
  return workerJob(WORKER, { file, options }, {
    stallMs,
    onProgress: (data, post) => {
      if (data.type === "verdict") verdict = data;
      else if (data.type === "interval") post({ type: "answer", value: steered(steer, data) });
      else if (!feed?.take(data)) onTime?.(data.seconds);
    },
    result: (data) => ({ buffer: data.buffer, ssim: data.ssim, ssimMethod: data.ssimMethod, bitrates: data.bitrates }),
  }).then(async ({ buffer, ...result }) => ({
    blob: feed ? await feed.blob() : new Blob([buffer], { type: "video/mp4" }), ...result,
  }), (error) => {
    if (error?.code === "below-floor" && verdict) {
      const { ssim, seconds, frames, reached } = verdict;
      const facts = { ssim, seconds, frames, reached };
      Object.assign(error, facts, { detail: JSON.stringify(facts) });
    }
    throw error;
  });
}

/** The next interval's bitrate, or the last one's if steering fails. */
function steered(steer, { bitrate, ssim, mean, done }) {
  try {
    return steer(bitrate, ssim, mean, done);
  } catch (error) {
    console.warn("steering failed:", error?.name);
    return bitrate;
  }
}

/**
 * The rate probe (rate-probe.js): `encoder` as for transcodeWebCodecs (its bitrate is not
 * used), `windows` [[start_s, length_s], ...], `bitrates` [bits/s, ...]. Resolves to
 * {samples: [{bitrate, ssim, frames}] (ascending bitrate; ssim null where the encoder refused
 * that bitrate), windows: the [start_s, length_s] measured (moved to keyframes),
 * frames: source frames probed, seconds: the probe's wall time}. `onTime(seconds)` reports
 * the media time probed so far. Rejects with EngineError "probe-unavailable" (no SSIM
 * kernel), "probe-unsupported" (frames our scaler cannot take), or as transcodeWebCodecs.
 */
export function probeRates(file, { encoder, windows, bitrates, stallMs, onTime }) {
  const message = { type: "probe", file, options: encoder, windows, bitrates };
  const probe = workerJob(WORKER, message, {
    stallMs,
    onProgress: (data) => onTime?.(data.seconds),
    result: ({ samples, windows: measured, frames, seconds }) => ({ samples, windows: measured, frames, seconds }),
  });
  spareWorker(WORKER);  // the encode's, loading while the probe runs
  return probe;
}

/** Start the engine's worker ahead of its first job (the preview's: its probe), loading its
 * modules and kernels while nobody waits. */
export function prepareWebCodecs() {
  spareWorker(WORKER);
}

/** Whether this browser can encode `config` (a VideoEncoderConfig) with WebCodecs. */
export async function canEncode(config) {
  if (typeof VideoEncoder === "undefined") return false;
  try {
    return (await VideoEncoder.isConfigSupported(config)).supported === true;
  } catch {
    return false;
  }
}
