// The rate probe: what SSIM the browser's encoder reaches on this clip at a few bitrates,
// measured on short windows of it before the real encode (Chromium's VideoEncoder has no
// quantizer mode for AVC, so a quality can only be targeted through its bitrate; Python's
// rate.py chooses the bitrate from these samples).
//
// The windows are decoded once (mediabunny seeks from the keyframe before each), pre-scaled
// through the encode's own frame path (frame-path.js), and given to one encoder per bitrate
// at once, each configured as the real encode is, with a keyframe at each window's start.
// Each encoder's chunks are decoded back as they come and every frame is measured against
// the pre-scaled frame it was made from, with ffmpeg's SSIM on luma (ssim.js). Memory
// stays bounded: a frame's luma is kept only until every encoder's version of it has been
// measured, and the encoders are never more than a few frames ahead.
import { EncodedPacketSink, VideoSampleSink } from "../mediabunny/mediabunny.mjs";
import { atEncoderSize, checkSupported, encoderConfig, encoderTarget } from "./frame-path.js";
import { EngineError } from "./jobs.js";
import { OutputMeter, PlaneSsim, References, hasLuma8, lumaOf } from "./ssim.js";

const MAX_QUEUE = 8;  // frames waiting in any encoder before we stop decoding ahead
const MAX_KEPT = 24;  // source lumas waiting for their encoded versions (720p: 22 MB)
const SNAP_S = 0.5;  // a window always moves to a keyframe this close
const MAX_LEAD_S = 1.0;  // decoded before a window that found no keyframe in its reach, at most
const PROGRESS_EVERY = 8;  // frames between two progress reports (the watchdog's pulse)

/**
 * Where the windows go. Each [start, length] (seconds) moves to the keyframe nearest its
 * start if one is within its reach (half the way to the next window asked for, at least
 * SNAP_S): the window stays in its part of the clip and no frame is decoded in vain. With no
 * keyframe in reach (sparse keyframes) it keeps its start if the keyframe before it is at
 * most `maxLeadS` earlier (those frames are decoded and dropped), and otherwise moves to the
 * nearest keyframe anyway: decoding seconds of unused 1080p frames would cost more than the
 * probe itself. Windows stay inside the clip; one that would overlap another is dropped.
 * Returns [{start, length}] in order.
 */
export async function placeWindows(track, duration, windows, maxLeadS = MAX_LEAD_S) {
  const packets = new EncodedPacketSink(track);
  const asked = windows.map(([start, length]) => {
    const kept = Math.min(length, duration);
    return { start: Math.min(Math.max(0, start), Math.max(0, duration - kept)), length: kept };
  }).sort((a, b) => a.start - b.start);
  const placed = [];
  for (const [i, { start, length }] of asked.entries()) {
    const gaps = [asked[i - 1], asked[i + 1]].filter(Boolean).map((other) => Math.abs(other.start - start));
    const reach = Math.max(SNAP_S, Math.min(duration, ...gaps) / 2);
    const before = await packets.getKeyPacket(start, { metadataOnly: true });
    const after = before ? await packets.getNextKeyPacket(before, { metadataOnly: true })
      : await packets.getFirstKeyPacket({ metadataOnly: true });
    const [near] = [before, after]
      .filter((key) => key && key.timestamp + length <= duration + 1e-3)
      .sort((a, b) => Math.abs(a.timestamp - start) - Math.abs(b.timestamp - start));
    const lead = before ? start - before.timestamp : 0;
    const snap = near && (Math.abs(near.timestamp - start) <= reach || lead > maxLeadS);
    placed.push({ start: snap ? near.timestamp : start, length });
  }
  placed.sort((a, b) => a.start - b.start);
  const kept = [];
  for (const window of placed) {
    const last = kept.at(-1);
    if (!last || window.start >= last.start + last.length - 1e-6) kept.push(window);
  }
  return kept;
}

/** The source samples of one window, in order. It stops at the window's last frame: the
 * sink would otherwise decode on to find the next one past the end. */
async function* windowSamples(track, start, length, frameS) {
  const samples = new VideoSampleSink(track).samples(start, start + length);
  try {
    for (;;) {
      const { done, value } = await samples.next();
      if (done) return;
      const last = value.timestamp + (value.duration || frameS) >= start + length - 1e-3;
      yield value;
      if (last) return;
    }
  } finally {
    await samples.return();
  }
}

/**
 * What a window's frames predict for the encode: its SSIMs in order (the first at its
 * keyframe) stand for a keyframe interval of `gop` frames. A window is shorter than that
 * interval, and the real encode's SSIM is not flat within one: it dips for a few frames
 * after each keyframe (the rate control pays for the keyframe) and climbs to a plateau by
 * about the interval's middle. The probe's encoder is configured as the real one and
 * follows the same curve (measured: bench/frame_path.py), so the frames the window lacks
 * are counted at the mean of its last third: (sum + (gop - n) * tail) / gop. On the
 * benchmark's clips this predicted the whole encode within -0.0009..+0.0029 with 1 s
 * windows and -0.0084..-0.0002 with 0.5 s ones (the plain mean: -0.0044..+0.0013 and
 * -0.0125..+0.0033).
 */
export function windowPrediction(ssims, gop) {
  const n = ssims.length;
  const sum = ssims.reduce((a, b) => a + b, 0);
  if (n >= gop) return sum / n;
  const tail = ssims.slice(Math.min(Math.floor((2 * n) / 3), n - 1));
  return (sum + ((gop - n) * tail.reduce((a, b) => a + b, 0)) / tail.length) / gop;
}

/** One bitrate: its encoder, and a decoder measuring what it makes. */
class Lane {
  constructor(config, ssim, references, gop) {
    Object.assign(this, { bitrate: config.bitrate, gop });
    this.failure = null;
    this.byWindow = [];  // per window, the SSIM of each of its frames by position
    this.meter = new OutputMeter(ssim, references, (value, { window, position }) => {
      (this.byWindow[window] ??= [])[position] = value;
    });
    this.encoder = new VideoEncoder({
      output: (chunk, meta) => this.meter.decode(chunk, meta),
      error: (error) => { this.failure = error; },
    });
    this.encoder.configure(config);
  }

  encode(frame, keyFrame) {
    if (!this.failure && this.encoder.state === "configured") this.encoder.encode(frame, { keyFrame });
  }

  async finish() {
    if (!this.failure && this.encoder.state === "configured") {
      try {
        await this.encoder.flush();
      } catch (error) {
        this.failure = error;
      }
    }
    await this.meter.finish();
    this.close();
  }

  close() {
    if (this.encoder.state !== "closed") this.encoder.close();
    this.meter.close();
  }

  get failed() {
    return Boolean(this.failure || this.meter.failed);
  }

  /** {bitrate, ssim (predicted for the encode), windowSsim, probeSsim (plain mean), frames}. */
  get sample() {
    const windows = this.byWindow.map((ssims) => ssims?.filter((v) => v !== undefined)).filter((ssims) => ssims?.length);
    const all = windows.flat();
    const measured = !this.failed && all.length > 0;
    const windowSsim = measured ? windows.map((ssims) => windowPrediction(ssims, this.gop)) : [];
    return {
      bitrate: this.bitrate,
      ssim: measured ? windowSsim.reduce((a, b) => a + b, 0) / windowSsim.length : null,
      windowSsim,
      probeSsim: measured ? all.reduce((a, b) => a + b, 0) / all.length : null,
      frames: all.length,
    };
  }
}

/**
 * Samples of SSIM against bitrate for `track` (of `duration` seconds) encoded as `options`
 * (the encode's own options, as Python planned them; their bitrate is not used) at each of
 * `bitrates` (bits/s) over `windows` ([start_s, length_s] pairs). Resolves to
 * {samples, windows, frames, seconds, ssimMs, phases}:
 * - samples: one per distinct bitrate, ascending: {bitrate, ssim: the SSIM predicted for the
 *   whole encode at that bitrate (ffmpeg's, luma), windowSsim: the same per window,
 *   probeSsim: the plain mean of the frames measured, frames: how many}; ssim is null (and
 *   windowSsim empty) for a bitrate the encoder refused;
 * - windows: the [start_s, length_s] measured (moved to keyframes by placeWindows, unless
 *   `options.placedWindows`);
 * - frames: source frames probed; seconds: the probe's wall time; ssimMs: per measurement;
 *   phases: where the time went (ms).
 * `onTime(seconds)` reports the media time probed so far (the watchdog's pulse).
 */
export async function probeRates(track, duration, options, windows, bitrates, onTime) {
  const started = performance.now();
  const config = encoderConfig(track, options);
  await checkSupported(config);
  const target = await encoderTarget(config, {});  // always the kernel: what the encode uses
  const ssim = await PlaneSsim.create(config.width, config.height);
  if (!ssim) throw new EngineError("probe-unavailable");
  // `placedWindows`: the windows were placed already (Python's rate.probe_windows, from the
  // clip's keyframes), and are kept as given. `probeMaxLeadS`: a benchmark's knob (how far
  // before a window decoding may start).
  const placed = options.placedWindows
    ? windows.map(([start, length]) => ({ start, length: Math.min(length, Math.max(0, duration - start)) }))
    : await placeWindows(track, duration, windows, options.probeMaxLeadS ?? MAX_LEAD_S);
  const rates = [...new Set(bitrates.map(Math.round))].sort((a, b) => a - b);
  const supported = await Promise.all(rates.map(async (bitrate) => (await VideoEncoder.isConfigSupported({ ...config, bitrate })).supported));
  const references = new References(supported.filter(Boolean).length);
  const fps = options.framerate || 30;
  const gop = Math.max(1, Math.round((options.keyIntervalS || 2) * fps));  // the encode's keyframe interval
  const lanes = rates.map((bitrate, i) => (supported[i] ? new Lane({ ...config, bitrate }, ssim, references, gop) : null));
  const active = lanes.filter(Boolean);
  // The probe's frames on a timeline of their own, without the gaps between windows: the
  // encoders' rate control sees one continuous clip with a keyframe at each window's start.
  const step = 1e6 / fps;
  let index = 0;
  let probed = 0;
  // Where the wall time went (ms), for the benchmark: waiting for decoded source frames,
  // pre-scaling them, waiting for the encoders and measurers, and draining them at the end.
  const phases = { setup: performance.now() - started, decode: 0, scale: 0, wait: 0, finish: 0 };
  let mark = performance.now();
  const lap = (phase) => {
    const now = performance.now();
    phases[phase] += now - mark;
    mark = now;
  };
  try {
    for (const [window, { start, length }] of placed.entries()) {
      let position = 0;
      mark = performance.now();
      for await (const sample of windowSamples(track, start, length, step / 1e6)) {
        lap("decode");
        const frame = sample.toVideoFrame();
        const init = { timestamp: Math.round(index * step), duration: Math.round(step) };
        const { input, path } = await atEncoderSize(frame, target, init);
        lap("scale");
        try {
          const luma = path === "wasm" ? target.scaler.lumaCopy() : path === "none" && hasLuma8(frame) ? await lumaOf(frame) : null;
          // Frames only OpenH264 could scale (NV12, 10-bit), or no kernel to scale them.
          if (!luma) throw new EngineError(target.scaler ? "probe-unsupported" : "probe-unavailable");
          references.keep(input.timestamp, luma, { window, position });
          for (const lane of active) lane.encode(input, position === 0);
        } finally {
          if (input !== frame) input.close();
          frame.close();
          sample.close();
        }
        position += 1;
        index += 1;
        probed += step / 1e6;
        if (index % PROGRESS_EVERY === 0) onTime(probed);
        while (active.some((lane) => lane.encoder.encodeQueueSize > MAX_QUEUE) || references.size > MAX_KEPT) {
          if (active.some((lane) => lane.failed)) throw new EngineError("encoder-error");
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        lap("wait");
      }
    }
    mark = performance.now();
    await Promise.all(active.map((lane) => lane.finish()));
    lap("finish");
  } finally {
    for (const lane of active) lane.close();
  }
  if (active.some((lane) => lane.failed)) throw new EngineError("encoder-error");
  return {
    samples: lanes.map((lane, i) => lane?.sample ?? { bitrate: rates[i], ssim: null, windowSsim: [], probeSsim: null, frames: 0 }),
    windows: placed.map(({ start, length }) => [start, length]),
    frames: index,
    seconds: (performance.now() - started) / 1000,
    ssimMs: ssim.count ? ssim.millis / ssim.count : null,
    phases: Object.fromEntries(Object.entries(phases).map(([phase, ms]) => [phase, Math.round(ms)])),
  };
}
