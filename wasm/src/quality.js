// What the browser's encoder made, measured: its rate control meets a bitrate, not a
// quality, so the WebCodecs engine measures its output against what it was given.
//
// The measure is ffmpeg's SSIM on luma (wasm/kernels/ssim.c: the `ssim` filter's 4x4-stepped
// 8x8 windows, its arithmetic; equal to ffmpeg's Y figure to six decimals), in YUV, of each
// measured output frame against the pre-scaled frame the encoder was given: the encoder's
// chunks are decoded as they are produced (a VideoDecoder beside the encoder), so the output
// is never read a second time. Where no pre-scaled frame exists (the kernels cannot load, or
// frames the scaler does not take, NV12 or 10-bit), the older estimate is used: luma through
// RGB canvases at six moments, read back from the muxed output (CanvasQuality).
import { CanvasSink } from "../mediabunny/mediabunny.mjs";
import { drawUpright, rgbaOf } from "./frames.js";
import { OutputMeter, PlaneSsim, References, hasLuma8, lumaOf } from "./ssim.js";

const MEASURE_EVERY = 3;  // measured frames: one in this many, in the measured intervals
// Keyframe intervals (GOPs) measured: one in this many (a P-frame cannot be decoded without
// the frames before it in its interval, so whole intervals are decoded or skipped). Measuring
// costs about +10-24 % of the encode's wall time here, mostly the decoding (bench/frame_path.py,
// "measuring the output"); every other interval saved part of it but read up to 0.0011 away
// from ffmpeg (every interval: within 0.0003), and 0.001 of SSIM is about 5 % of bitrate at
// these rates: every interval is measured. Clips shorter than ALL_GOPS_BELOW intervals have
// every interval measured whatever MEASURE_GOPS says.
const MEASURE_GOPS = 1;
const ALL_GOPS_BELOW = 4;
const VERDICT_S = 2.0;  // media judged by the early verdict, from the first frame
const VERDICT_MIN_FRAMES = 24;  // …and at least this many frames (a low frame rate: longer)
const VERDICT_MARGIN = 0.004;  // how far below abandonBelow counts as clearly below

/**
 * The quality of one encode, measured while it runs (see the top of this file): `ssim` is the
 * mean over every MEASURE_EVERY-th frame of every MEASURE_GOPS-th keyframe interval.
 *
 * The early verdict, with `abandonBelow` (an SSIM: Python's floor plus its margin): every
 * frame of the first VERDICT_S of media (at least VERDICT_MIN_FRAMES frames) is measured, and
 * once all of them are, `verdict` becomes {ssim: their mean, seconds: the last one's time,
 * frames, abandon}, `abandon` being true when the mean is below abandonBelow by more than
 * VERDICT_MARGIN; the worker then stops at once (EngineError "below-floor"). Why this rule:
 * single frames are noisy (their SSIM's standard deviation was 0.003-0.012 over a clip's first
 * 2 s) and the rate control needs about a second to settle (the first second read up to 0.005
 * below the second), so one verdict on the mean of every frame of the first two seconds, which
 * read within -0.0028..+0.0027 of the whole clip on the benchmark's clips at 0.03-0.16 bit/px
 * (bench/frame_path.py, column "2 s"). The margin exceeds the worst of that by a third, so
 * that an output the gate would pass is not abandoned for that difference: a false abandon
 * throws away the fast engine's output for ffmpeg.wasm, 4-5x slower; a missed one costs only
 * the rest of this encode, which the gate then refuses.
 */
export class EncodeQuality {
  /**
   * `target`: the encoder's size and scaler (frame-path.js); `display` {width, height,
   * rotation, duration}: for the canvas fallback. `measureScaler`: a FrameScaler making
   * references for frames the encoder scales itself (the benchmark's encoder path), or null.
   */
  static async create(settings) {
    const ssim = await PlaneSsim.create(settings.target.width, settings.target.height);
    return new EncodeQuality(ssim, settings);
  }

  constructor(ssim, {
    target, display, keyIntervalS, abandonBelow = null, measureScaler = null, every = MEASURE_EVERY,
    gops = MEASURE_GOPS, trace = false, carried = null,
  }) {
    Object.assign(this, { ssim, target, display, abandonBelow, measureScaler, every });
    this.gops = display.duration >= ALL_GOPS_BELOW * keyIntervalS ? gops : 1;
    this.gop = { index: -1, measured: true, decoding: true, starts: new Map() };  // starts: key time → measured
    this.trace = trace ? [] : null;  // [[seconds, ssim], ...] of every measured frame (benchmarks)
    this.references = new References(1);
    this.meter = null;  // the YUV measure, chosen at the first frame
    this.canvas = null;  // or the fallback
    this.index = 0;
    this.firstTime = null;
    // What was measured of the frames an earlier run stored (a resumed output), carried on.
    this.sum = carried?.sum ?? 0;
    this.count = carried?.count ?? 0;
    this.early = { sum: 0, count: 0, kept: 0, closed: false, lastTime: 0 };
    this.verdict = null;
    this.intervals = [];  // by keyframe interval of this run: {sum, count} of its regular measure
  }

  get method() {
    return this.meter ? "yuv" : this.canvas ? "canvas" : "none";
  }

  /**
   * Each source frame in order, with the encoder's input made from it and how (`path`), its
   * time (s) and whether it is to be a keyframe; keeps a reference if this frame is to be
   * measured. Await it before encoding `input`.
   */
  async offer(frame, input, path, timestamp, keyFrame) {
    const index = this.index++;
    this.firstTime ??= frame.timestamp;
    const early = this.abandonBelow != null &&
      (frame.timestamp - this.firstTime < VERDICT_S * 1e6 || index < VERDICT_MIN_FRAMES);
    if (!early && !this.early.closed) {
      this.early.closed = true;
      this.#judge();
    }
    if (keyFrame) {
      const gop = this.gop;
      gop.index += 1;
      gop.measured = gop.index % this.gops === 0 || early;
      gop.starts.set(input.timestamp, gop.measured);
    }
    const regular = this.gop.measured && this.every > 0 && index % this.every === 0;
    if (this.canvas) {
      this.canvas.offer(frame, timestamp);
      return;
    }
    if ((!regular && !early) || this.meter?.failed) return;
    const luma = await this.#reference(frame, input, path);
    if (!luma) {
      if (index === 0) {  // no YUV reference for this clip: the RGB estimate instead
        this.canvas = new CanvasQuality(this.display);
        this.canvas.offer(frame, timestamp);
      }
      return;
    }
    this.meter ??= new OutputMeter(this.ssim, this.references, (ssim, info) => this.#measured(ssim, info));
    if (early) this.early.kept += 1;
    this.references.keep(input.timestamp, luma, { regular, early, time: timestamp, interval: this.gop.index });
  }

  // The luma the encoder was given for `frame` (or, when it scales the frame itself, the
  // luma our kernel would have given it: what ffmpeg's reference is), or null.
  async #reference(frame, input, path) {
    if (!this.ssim) return null;
    if (path === "wasm") return this.target.scaler.lumaCopy();
    if (path === "none") return hasLuma8(frame) ? lumaOf(frame) : null;
    const scaler = this.measureScaler;
    if (!scaler?.canScale(frame)) return null;
    (await scaler.scale(frame)).close();
    return scaler.lumaCopy();
  }

  /** Each chunk the encoder outputs, in order: those of measured intervals are decoded. */
  decode(chunk, meta) {
    const { starts } = this.gop;
    if (chunk.type === "key" && starts.has(chunk.timestamp)) {  // not a keyframe the encoder chose
      if (this.gop.decoding && !starts.get(chunk.timestamp)) this.meter?.drain();  // a gap begins
      this.gop.decoding = starts.get(chunk.timestamp);
      starts.delete(chunk.timestamp);
    }
    if (this.gop.decoding) this.meter?.decode(chunk, meta);
  }

  /** The regular measure so far, {sum, count} (null on the canvas fallback, which measures at the end). */
  get soFar() {
    return this.meter ? { sum: this.sum, count: this.count } : null;
  }

  /**
   * The latest keyframe interval after the `after`-th with at least `least` frames measured:
   * {index, ssim: their mean}, or null.
   */
  interval(after, least) {
    for (let index = this.gop.index; index > after; index -= 1) {
      const measured = this.intervals[index];
      if (measured?.count >= least) return { index, ssim: measured.sum / measured.count };
    }
    return null;
  }

  /** Frames waiting to be decoded or measured (the encode lets them drain). */
  get backlog() {
    return this.meter?.backlog ?? 0;
  }

  #measured(ssim, { regular, early, time, interval }) {
    this.trace?.push([time, ssim]);
    if (regular) {
      this.sum += ssim;
      this.count += 1;
      const measured = (this.intervals[interval] ??= { sum: 0, count: 0 });
      measured.sum += ssim;
      measured.count += 1;
    }
    if (early) {
      this.early.sum += ssim;
      this.early.count += 1;
      this.early.lastTime = Math.max(this.early.lastTime, time);
      this.#judge();
    }
  }

  #judge() {
    const { sum, count, kept, closed, lastTime } = this.early;
    if (this.verdict || !closed || count < kept) return;
    const ssim = sum / count;
    this.verdict = { ssim, seconds: lastTime, frames: count, abandon: ssim < this.abandonBelow - VERDICT_MARGIN };
  }

  /** Once the encoder has flushed: decodes and measures the frames still on their way. */
  async finish() {
    await this.meter?.finish();
  }

  /**
   * {ssim, frames, method} once the encode is done; `ssim` is null if nothing could be
   * measured (or the output's decoder failed). `outputTrack()`: the muxed output's video
   * track, read only by the canvas fallback.
   */
  async result(outputTrack) {
    if (this.meter) {
      const ssim = this.count && !this.meter.failed ? this.sum / this.count : null;
      const trace = this.trace?.sort((a, b) => a[0] - b[0]);
      return { ssim, frames: this.count, method: "yuv", ...(trace && { trace }) };
    }
    if (this.canvas) return { ...(await this.canvas.measure(await outputTrack())), method: "canvas" };
    return { ssim: null, frames: 0, method: "none" };
  }

  close() {
    this.meter?.close();
  }
}

// ---------------------------------------------------------------- the RGB fallback --------

const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;
const BLOCK = 8;

function luma(rgba) {
  const y = new Float32Array(rgba.length / 4);
  for (let i = 0, j = 0; j < y.length; i += 4, j += 1) {
    y[j] = 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2];
  }
  return y;
}

/** Mean SSIM over 8x8 blocks of two RGBA images of the same size. */
export function lumaSsim(rgbaA, rgbaB, width, height) {
  const a = luma(rgbaA);
  const b = luma(rgbaB);
  const n = BLOCK * BLOCK;
  let total = 0;
  let blocks = 0;
  for (let by = 0; by + BLOCK <= height; by += BLOCK) {
    for (let bx = 0; bx + BLOCK <= width; bx += BLOCK) {
      let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
      for (let y = by; y < by + BLOCK; y += 1) {
        for (let x = bx, i = y * width + bx; x < bx + BLOCK; x += 1, i += 1) {
          const va = a[i], vb = b[i];
          sa += va; sb += vb; saa += va * va; sbb += vb * vb; sab += va * vb;
        }
      }
      const ma = sa / n, mb = sb / n;
      const va = saa / n - ma * ma, vb = sbb / n - mb * mb, cov = sab / n - ma * mb;
      total += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
      blocks += 1;
    }
  }
  return blocks ? total / blocks : 1;
}

/**
 * Keeps a few source frames (drawn at the output's display size) while encoding, then
 * compares them with the same moments of the output: no seeking in the source.
 */
export class CanvasQuality {
  constructor({ width, height, rotation, duration, samples = 6 }) {
    Object.assign(this, { width, height, rotation });
    this.due = Array.from({ length: samples }, (_, i) => (duration * (i + 0.5)) / samples);
    this.kept = [];
  }

  /** Offer each source frame in order; the ones at sample moments are kept. */
  offer(frame, timestamp) {
    if (this.due.length && timestamp >= this.due[0]) {
      this.due.shift();
      this.kept.push({ timestamp, rgba: rgbaOf(drawUpright(frame, this.rotation, this.width, this.height)) });
    }
  }

  /** {ssim, frames}: the mean SSIM of the kept frames against `outputTrack` (null if none). */
  async measure(outputTrack) {
    const sink = new CanvasSink(outputTrack, { width: this.width, height: this.height, fit: "fill" });
    let total = 0;
    let count = 0;
    for (const { timestamp, rgba } of this.kept) {
      const wrapped = await sink.getCanvas(timestamp);
      if (!wrapped) continue;
      total += lumaSsim(rgba, rgbaOf(wrapped.canvas), this.width, this.height);
      count += 1;
    }
    return { ssim: count ? total / count : null, frames: count };
  }
}
