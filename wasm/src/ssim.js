// ffmpeg's SSIM on 8-bit luma in WebAssembly (wasm/kernels/ssim.c), and a meter that decodes
// an encoder's chunks as they come and measures the decoded frames with it: shared by the
// encode's quality measure (quality.js) and the rate probe (rate-probe.js).
import { align, ensureMemory, loadKernel, SLACK } from "./kernels.js";

// 8-bit formats whose first plane is luma, one byte a sample (copyTo's default layout puts it
// first, `width` bytes a row).
const LUMA8 = new Set(["I420", "I420A", "I422", "I422A", "I444", "I444A", "NV12"]);


/** Whether `frame`'s luma can be measured (8 bits a sample, luma first). */
export const hasLuma8 = (frame) => LUMA8.has(frame.format);

/** ffmpeg's SSIM of 8-bit luma planes of one size, in WebAssembly. */
export class PlaneSsim {
  /** A measurer for `width` x `height` planes, or null if its kernel cannot load here. */
  static async create(width, height) {
    try {
      return new PlaneSsim(await loadKernel("ssim"), width, height);
    } catch (error) {
      console.warn("SSIM kernel unavailable:", error?.name, error?.message);
      return null;
    }
  }

  constructor(wasm, width, height) {
    Object.assign(this, { wasm, width, height });
    const plane = width * height;
    this.ref = align(wasm.heap_base());
    this.temp = align(this.ref + plane + SLACK);
    this.frame = align(this.temp + wasm.ssim_temp_bytes(width) + SLACK);
    this.grow(this.frame + 3 * plane + SLACK);  // a 4:4:4 frame at most
    this.queue = Promise.resolve();
    this.millis = 0;  // time spent measuring (copies included), for the benchmark
    this.count = 0;
  }

  /**
   * SSIM of `frame`'s luma (its visible rectangle, which must be width x height) against
   * `reference` (width x height bytes). Calls run one at a time in order, so several
   * decoders' callbacks may call it; a frame's copy is awaited, never the caller's.
   */
  measure(reference, frame) {
    const run = this.queue.then(() => this.#measure(reference, frame));
    this.queue = run.catch(() => {});
    return run;
  }

  async #measure(reference, frame) {
    const started = performance.now();
    const rect = frame.visibleRect;
    if (rect.width !== this.width || rect.height !== this.height || !hasLuma8(frame)) {
      throw new Error(`cannot measure a ${frame.format} ${rect.width}x${rect.height} frame`);
    }
    const size = frame.allocationSize({ rect });
    this.grow(this.frame + size + SLACK);
    await frame.copyTo(new Uint8Array(this.wasm.memory.buffer, this.frame, size), { rect });
    const ssim = this.compare(reference);
    this.millis += performance.now() - started;
    this.count += 1;
    return ssim;
  }

  /** SSIM of the luma plane at this.frame (the last frame copied in) against `reference`;
   * also, with `luma`, of two planes held in JS (for tests). */
  compare(reference, luma = null) {
    const heap = new Uint8Array(this.wasm.memory.buffer);
    heap.set(reference, this.ref);
    if (luma) heap.set(luma, this.frame);
    return this.wasm.ssim_plane(this.ref, this.width, this.frame, this.width, this.width, this.height, this.temp);
  }

  grow(bytes) {
    ensureMemory(this.wasm.memory, bytes);
  }
}

/** A copy of `frame`'s luma plane (its visible rectangle): `width` bytes a row. */
export async function lumaOf(frame) {
  const rect = frame.visibleRect;
  const all = new Uint8Array(frame.allocationSize({ rect }));
  await frame.copyTo(all, { rect });
  return all.slice(0, rect.width * rect.height);
}

/**
 * Decodes one encoder's chunks as they are produced (`decode(chunk, meta)`) and measures
 * each decoded frame whose reference was kept (`references`, by timestamp) with `ssim`;
 * `onMeasured(ssim, info, timestamp)` gets each result with the reference's `info`. A decoder that
 * fails measures nothing more (`failed`); the encode goes on.
 */
export class OutputMeter {
  constructor(ssim, references, onMeasured) {
    Object.assign(this, { ssim, references, onMeasured });
    this.failed = null;
    this.pending = new Set();  // measurements under way
    this.decoder = new VideoDecoder({
      output: (frame) => this.#output(frame),
      error: (error) => this.#fail(error),
    });
  }

  decode(chunk, meta) {
    if (this.failed) return;
    try {
      if (meta?.decoderConfig && this.decoder.state !== "configured") this.decoder.configure(meta.decoderConfig);
      if (this.decoder.state === "configured") this.decoder.decode(chunk);
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Lets the decoder give up the frames it holds back (it would wait for the next chunk):
   * before a gap in the chunks it is given. */
  drain() {
    if (this.failed || this.decoder.state !== "configured") return;
    const done = this.decoder.flush().catch((error) => this.#fail(error)).finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  /** Frames decoded or waiting to be: what the caller may want to let drain. */
  get backlog() {
    return (this.decoder.state === "configured" ? this.decoder.decodeQueueSize : 0) + this.pending.size;
  }

  /** Decodes and measures what is left, then frees the decoder. */
  async finish() {
    if (this.decoder.state === "configured" && !this.failed) {
      try {
        await this.decoder.flush();
      } catch (error) {
        this.#fail(error);
      }
    }
    await Promise.all(this.pending);
    if (this.decoder.state !== "closed") this.decoder.close();
  }

  close() {
    if (this.decoder.state !== "closed") this.decoder.close();
  }

  #output(frame) {
    const kept = this.references.take(frame.timestamp);
    if (!kept || this.failed) {
      frame.close();
      return;
    }
    const { timestamp } = frame;
    const done = this.ssim.measure(kept.luma, frame)
      .then((ssim) => this.onMeasured(ssim, kept.info, timestamp), (error) => this.#fail(error))
      .finally(() => {
        frame.close();
        this.pending.delete(done);
      });
    this.pending.add(done);
  }

  #fail(error) {
    if (this.failed) return;
    this.failed = error;
    console.warn("output decoder failed, its frames are not measured:", error?.name, error?.message);
  }
}

/** Source lumas by timestamp (µs), each kept until all `lanes` decoders have measured it. */
export class References {
  constructor(lanes = 1) {
    this.lanes = lanes;
    this.byTime = new Map();
  }

  keep(timestamp, luma, info = null) {
    this.byTime.set(timestamp, { luma, info, left: this.lanes });
  }

  take(timestamp) {
    const kept = this.byTime.get(timestamp);
    if (kept && --kept.left === 0) this.byTime.delete(timestamp);
    return kept;
  }

  get size() {
    return this.byTime.size;
  }
}

