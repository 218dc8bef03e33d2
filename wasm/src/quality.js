// A quick, sampled quality check: mean SSIM on luma between the source and the output,
// both drawn at the output's display size, at a few evenly spaced moments.
// Used to make sure an encoder whose rate control we do not govern (the browser's)
// still meets the preset's floor.
import { CanvasSink } from "../mediabunny/mediabunny.mjs";
import { drawUpright, rgbaOf } from "./frames.js";

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
export class QualityProbe {
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

  /** Mean SSIM of the kept frames against `outputTrack`, or null if none compared. */
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
    return count ? total / count : null;
  }
}
