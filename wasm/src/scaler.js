// Pre-scaling decoded frames for the encoder: a bicubic I420 scaler in WebAssembly
// (wasm/kernels/scale.c: ffmpeg's default scale filter, same output as ffmpeg's C path).
// Why: when OpenH264 scales a frame itself, the output scores 0.005-0.013 SSIM lower at
// equal bits than this bicubic pre-scale (bench/frame_path.py), which is what makes the
// quality gate refuse WebCodecs on noisy clips. The frame stays YUV (no RGB round trip, its
// values and range untouched) and keeps its colour space.
import { align, ensureMemory, loadKernel, SLACK } from "./kernels.js";

// swscale's "local" sample positions, in 1/256 of a sample of the plane: luma samples are
// centred (128). H.264's default 4:2:0 chroma siting (MPEG-2, chroma_sample_loc_type 0) is
// left-sited horizontally (64) and centred vertically; VideoFrame does not say where a
// frame's chroma sits, so that default is assumed. (ffmpeg 5.1's `scale` assumes centred
// chroma unless told: from 1080p to 720p its chroma lands an eighth of a sample aside.)
const CENTRED = 128;
const LEFT_SITED = 64;

// 8-bit planar 4:2:0: what the kernel scales. I420A's alpha plane is copied and ignored
// (H.264 has no alpha: the encoder would drop it too). NV12, 4:2:2/4:4:4 and high bit depth
// (I420P10…) go to the encoder unscaled, which scales and converts them as it did before.
const SCALABLE = new Set(["I420", "I420A"]);


const half = (n) => Math.ceil(n / 2);

/** Scales decoded frames to one size (the encoder's coded size), one frame at a time. */
export class FrameScaler {
  /** A scaler to `width` x `height`, or null if the kernel cannot be loaded here. */
  static async create(width, height) {
    try {
      return new FrameScaler(await loadKernel("scale"), width, height);
    } catch (error) {
      console.warn("frame scaler unavailable:", error?.name, error?.message);
      return null;
    }
  }

  constructor(wasm, width, height) {
    Object.assign(this, { wasm, width, height });
    this.planned = null;  // memory layout and filters for the last source size
    this.millis = 0;  // time spent in scale(), copies included, for the benchmark
    this.kernelMillis = 0;  // of which in the kernel itself
    this.frames = 0;
  }

  /** Whether this scaler can scale `frame` (otherwise the encoder scales it). */
  canScale(frame) {
    return SCALABLE.has(frame.format);
  }

  /**
   * A new I420 VideoFrame of the target size from `frame`'s visible rectangle, with the
   * same timestamp, duration and colour space (so the encoder tags the output as the
   * source was), unless `init` says otherwise (the rate probe retimes its frames). The
   * caller closes both frames. Not re-entrant: await each call.
   */
  async scale(frame, init = {}) {
    const started = performance.now();
    const { x, y, width, height } = frame.visibleRect;
    const plan = this.plan(width, height, frame.format === "I420A");
    // Decoded straight into the kernel's memory (no intermediate buffer).
    const heap = new Uint8Array(this.wasm.memory.buffer);
    await frame.copyTo(heap.subarray(plan.src, plan.src + plan.srcBytes), { rect: { x, y, width, height }, layout: plan.layout });
    const { scale_plane: scalePlane } = this.wasm;
    const copied = performance.now();
    const [cw, ch, dcw, dch] = [half(width), half(height), half(this.width), half(this.height)];
    scalePlane(plan.src, width, height, plan.dst, this.width, this.width, this.height, plan.lumaH, plan.lumaV, plan.ring);
    for (const [from, to] of [[width * height, this.width * this.height], [width * height + cw * ch, this.width * this.height + dcw * dch]]) {
      scalePlane(plan.src + from, cw, ch, plan.dst + to, dcw, dcw, dch, plan.chromaH, plan.chromaV, plan.ring);
    }
    this.kernelMillis += performance.now() - copied;
    const scaled = new VideoFrame(new Uint8Array(this.wasm.memory.buffer, plan.dst, plan.dstBytes), {
      format: "I420", codedWidth: this.width, codedHeight: this.height, timestamp: frame.timestamp,
      ...(frame.duration != null && { duration: frame.duration }),
      colorSpace: frame.colorSpace.toJSON(), ...init,
    });
    this.millis += performance.now() - started;
    this.frames += 1;
    return scaled;
  }

  /** A copy of the luma (Y) plane of the frame scale() made last, `width` bytes a row: the
   * reference its encoded version is measured against (quality.js). */
  lumaCopy() {
    const { dst } = this.planned;
    return new Uint8Array(this.wasm.memory.buffer).slice(dst, dst + this.width * this.height);
  }

  /** Memory layout and filters for a source of `width` x `height`, made again only when
   * the source size changes (every plan lays out the same memory). */
  plan(width, height, alpha) {
    const key = `${width}x${height}${alpha ? "a" : ""}`;
    if (this.planned?.key === key) return this.planned;
    const k = this.wasm;
    const [cw, ch, dcw, dch] = [half(width), half(height), half(this.width), half(this.height)];
    let end = align(k.heap_base());
    const take = (bytes) => {
      const at = end;
      end = align(at + bytes + SLACK);
      return at;
    };
    const lumaBytes = width * height;
    const layout = [{ offset: 0, stride: width }, { offset: lumaBytes, stride: cw }, { offset: lumaBytes + cw * ch, stride: cw }];
    if (alpha) layout.push({ offset: lumaBytes + 2 * cw * ch, stride: width });
    const srcBytes = lumaBytes + 2 * cw * ch + (alpha ? lumaBytes : 0);
    const dstBytes = this.width * this.height + 2 * dcw * dch;
    const plan = { key, layout, srcBytes, dstBytes, src: take(srcBytes), dst: take(dstBytes) };
    const axes = { lumaH: [width, this.width, CENTRED, 1], lumaV: [height, this.height, CENTRED, 0],
                   chromaH: [cw, dcw, LEFT_SITED, 1], chromaV: [ch, dch, CENTRED, 0] };
    for (const [name, [from, to]] of Object.entries(axes)) plan[name] = take(k.filter_bytes(from, to));
    this.grow(end);
    for (const [name, [from, to, position, horizontal]] of Object.entries(axes)) {
      k.make_filter(from, to, position, position, horizontal, plan[name]);
    }
    // The vertical pass keeps as many horizontally filtered rows as it has taps.
    const view = new DataView(k.memory.buffer);
    const rows = Math.max(view.getInt32(plan.lumaV, true), view.getInt32(plan.chromaV, true));
    plan.ring = take(rows * Math.ceil(this.width / 16) * 16 * 2);
    this.grow(end);
    this.planned = plan;
    return plan;
  }

  grow(bytes) {
    ensureMemory(this.wasm.memory, bytes);
  }
}
