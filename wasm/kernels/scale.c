// Bicubic scaling of one 8-bit plane (Y, U or V of an I420 frame), in YUV, values kept as
// they are (TV range stays TV range): the frame path's pre-scaler (wasm/src/scaler.js).
//
// The filter is libswscale's default, the one `ffmpeg -vf scale=W:H` uses (ffmpeg 5.1):
// SWS_BICUBIC with B = 0, C = 0.6, its kernel widened by the ratio when downscaling
// (7 taps for 1920 -> 1280), built with swscale's own integer arithmetic (initFilter in
// libswscale/utils.c: near-zero taps dropped, borders folded, error-diffused rounding),
// then applied as swscale does: horizontal pass to 15 bits, vertical pass rounded to 8 bits.
// With the same chroma positions the output is ffmpeg's bit for bit (its C path, or
// flags=+accurate_rnd; its default x86 SIMD path rounds some samples 1 off).
//
// No allocation: JS lays out every buffer in this module's memory and passes offsets.
// Build: clang --target=wasm32 -O3 -msimd128 -nostdlib -Wl,--no-entry (wasm/build.py).
#include <wasm_simd128.h>

typedef long long i64;
typedef int i32;
typedef short i16;
typedef unsigned char u8;

#define EXPORT(name) __attribute__((export_name(#name)))
#define MAX_TAPS 64  // 1 + 4 x ratio: enough for a 15x downscale

extern u8 __heap_base;

/** First byte JS may use: everything below is this module's stack and data. */
EXPORT(heap_base) i32 heap_base(void) { return (i32)&__heap_base; }

// ---------------------------------------------------------------- filters (once per size) --

// One axis of the scaling, as swscale's initFilter sees it. Positions are swscale's "local"
// positions in 1/256 of a sample of this plane: 128 is a sample's centre (luma, and chroma
// sited between two luma samples); 64 is MPEG-2's left-sited chroma.
typedef struct {
  i32 src, dst, size, inc, unscaled;
  i64 x0, fone;
} Axis;

static i64 iabs(i64 v) { return v < 0 ? -v : v; }

static Axis axis_of(i32 src, i32 dst, i32 src_pos, i32 dst_pos) {
  Axis a = {src, dst, 0, 0, 0, 0, 0};
  a.inc = (i32)((((i64)src << 16) + (dst >> 1)) / dst);
  a.unscaled = iabs(a.inc - 0x10000) < 10 && src_pos == dst_pos;
  i32 log2 = 0;
  for (i32 ratio = src / dst; ratio > 1; ratio >>= 1) log2++;
  a.fone = 1LL << (54 - (log2 < 8 ? log2 : 8));
  if (a.unscaled) {
    a.size = 1;
    return a;
  }
  a.size = a.inc <= 1 << 16 ? 5 : 1 + (4 * src + dst - 1) / dst;
  if (a.size > src - 2) a.size = src - 2;
  if (a.size < 1) a.size = 1;
  if (a.size > MAX_TAPS) a.size = MAX_TAPS;
  a.x0 = (((i64)dst_pos * a.inc) >> 7) - (((i64)src_pos * 0x10000) >> 7);
  return a;
}

// swscale's bicubic weight (B = 0, C = 0.6) at distance d (1 << 30 = one tap), times 6 << 54.
static i64 cubic(i64 d) {
  const i64 B = 0, C = (i64)(0.6 * (1 << 24));
  if (d >= 1LL << 31) return 0;
  i64 dd = (d * d) >> 30, ddd = (dd * d) >> 30;
  if (d < 1LL << 30)
    return (12 * (1 << 24) - 9 * B - 6 * C) * ddd + (-18 * (1 << 24) + 12 * B + 6 * C) * dd +
           (6 * (1 << 24) - 2 * B) * (1LL << 30);
  return (-B - 6 * C) * ddd + (6 * B + 30 * C) * dd + (-12 * B - 48 * C) * d +
         (8 * B + 24 * C) * (1LL << 30);
}

// The raw weights of output sample i into row[0..size); returns its first source sample.
static i32 raw_row(const Axis *a, i32 i, i64 *row) {
  if (a->unscaled) {
    row[0] = a->fone;
    return i;
  }
  i64 at = a->x0 + 2LL * a->inc * i;  // in 1/(1 << 17) source samples
  i32 first = (i32)((at - (a->size - 2) * (1LL << 16)) / (1 << 17));
  for (i32 j = 0; j < a->size; j++) {
    i64 d = iabs((i64)(first + j) * (1 << 17) - at) << 13;
    if (a->inc > 1 << 16) d = d * a->dst / a->src;
    row[j] = cubic(d) / ((1LL << 54) / a->fone);
  }
  return first;
}

// Stored per axis at `out`: i32 taps, i32 pos[n], i16 coef[n * taps], n = dst rounded up
// to 8 (the extra outputs have zero weights). Horizontal filters store taps as a multiple
// of 8 (the SIMD pass reads 8 at a time).
typedef struct {
  i32 taps;
  i32 pos[];
} Filter;

static i32 round_up(i32 v, i32 to) { return (v + to - 1) / to * to; }
static i16 *coefs(Filter *f, i32 dst) { return (i16 *)(f->pos + round_up(dst, 8)); }

/** Bytes make_filter may write for this axis (JS reserves them first). */
EXPORT(filter_bytes) i32 filter_bytes(i32 src, i32 dst) {
  i32 n = round_up(dst, 8);
  return 4 + 4 * n + 2 * n * round_up(MAX_TAPS, 8);
}

/**
 * Build the filter scaling `src` samples to `dst` at `out`; `horizontal` picks the tap
 * alignment swscale uses on x86 (4 horizontal, 2 vertical) so the same near-zero taps are
 * kept. Returns the bytes written.
 */
EXPORT(make_filter)
i32 make_filter(i32 src, i32 dst, i32 src_pos, i32 dst_pos, i32 horizontal, Filter *out) {
  Axis a = axis_of(src, dst, src_pos, dst_pos);
  const double cutoff = 0.002 * (double)a.fone;  // SWS_MAX_REDUCE_CUTOFF
  i64 row[MAX_TAPS + 8];
  i32 *pos = out->pos, min_size = 0;
  // Step 1, right to left as swscale does: drop near-zero leading taps (keeping positions
  // monotonic) and find how many trailing taps every output can do without.
  for (i32 i = dst - 1; i >= 0; i--) {
    pos[i] = raw_row(&a, i, row);
    i32 shift = 0;
    i64 cut = 0;
    for (i32 j = 0; j < a.size; j++) {
      cut += iabs(shift < a.size ? row[shift] : 0);
      if (cut > cutoff || (i < dst - 1 && pos[i] >= pos[i + 1])) break;
      shift++, pos[i]++;
    }
    i32 size = a.size;
    cut = 0;
    for (i32 j = a.size - 1; j > 0; j--) {
      cut += iabs(j + shift < a.size ? row[j + shift] : 0);
      if (cut > cutoff) break;
      size--;
    }
    if (size > min_size) min_size = size;
  }
  i32 align = horizontal ? 4 : (min_size == 1 ? 1 : 2);
  i32 size = round_up(min_size, align);
  i32 taps = horizontal ? round_up(size, 8) : size;
  out->taps = taps;
  i16 *coef = coefs(out, dst);
  const i32 one = horizontal ? 1 << 14 : 1 << 12;
  // Step 2: the kept taps, borders folded onto the edge samples, normalised to `one`.
  for (i32 i = 0; i < round_up(dst, 8); i++) {
    i16 *c = coef + i * taps;
    for (i32 j = 0; j < taps; j++) c[j] = 0;
    if (i >= dst) {
      pos[i] = 0;
      continue;
    }
    i64 f[MAX_TAPS + 8];
    i32 shift = pos[i] - raw_row(&a, i, row);
    for (i32 j = 0; j < size; j++) f[j] = j + shift < a.size ? row[j + shift] : 0;
    if (pos[i] < 0) {
      for (i32 j = 1; j < size; j++) {
        i32 left = j + pos[i] > 0 ? j + pos[i] : 0;
        f[left] += f[j];
        f[j] = 0;
      }
      pos[i] = 0;
    }
    if (pos[i] + size > src) {
      i32 move = pos[i] + (size - src < 0 ? size - src : 0);
      i64 acc = 0;
      for (i32 j = size - 1; j >= 0; j--)
        if (pos[i] + j >= src) acc += f[j], f[j] = 0;
      for (i32 j = size - 1; j >= 0; j--) f[j] = j < move ? 0 : f[j - move];
      pos[i] -= move;
      f[src - 1 - pos[i]] += acc;
    }
    i64 sum = 0, error = 0;
    for (i32 j = 0; j < size; j++) sum += f[j];
    sum = (sum + one / 2) / one;
    if (!sum) sum = 1;
    for (i32 j = 0; j < size; j++) {
      i64 v = f[j] + error;
      i64 q = (v >= 0 ? v + (sum >> 1) : v - (sum >> 1)) / sum;  // ROUNDED_DIV
      c[j] = (i16)q;
      error = v - q * sum;
    }
  }
  return 4 + 4 * round_up(dst, 8) + 2 * round_up(dst, 8) * taps;
}

// ---------------------------------------------------------------- scaling (every frame) ----

// One source row through the horizontal filter: n (a multiple of 8) 15-bit samples.
// Each output is a dot product of 8 source bytes with 8 weights (i32x4.dot_i16x8_s), and
// four outputs' partial sums are added across lanes with two rounds of shuffles.
static void horizontal_row(const u8 *src, i16 *out, i32 n, const Filter *f, const i16 *coef) {
  const i32 taps = f->taps;
  for (i32 x = 0; x < n; x += 4) {
    v128_t s[4];
    for (i32 k = 0; k < 4; k++) {
      const u8 *p = src + f->pos[x + k];
      const i16 *c = coef + (x + k) * taps;
      v128_t acc = wasm_i32x4_dot_i16x8(wasm_u16x8_load8x8(p), wasm_v128_load(c));
      for (i32 t = 8; t < taps; t += 8)
        acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_u16x8_load8x8(p + t), wasm_v128_load(c + t)));
      s[k] = acc;
    }
    v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(s[0], s[1], 0, 2, 4, 6), wasm_i32x4_shuffle(s[0], s[1], 1, 3, 5, 7));
    v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(s[2], s[3], 0, 2, 4, 6), wasm_i32x4_shuffle(s[2], s[3], 1, 3, 5, 7));
    v128_t sum = wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 2, 4, 6), wasm_i32x4_shuffle(ab, cd, 1, 3, 5, 7));
    // >> 7 without rounding and saturated to 15 bits, as swscale's hScale8To15.
    v128_t packed = wasm_i16x8_narrow_i32x4(wasm_i32x4_shr(sum, 7), wasm_i32x4_shr(sum, 7));
    wasm_v128_store64_lane(out + x, packed, 0);
  }
}

static u8 clip_u8(i32 v) { return v < 0 ? 0 : v > 255 ? 255 : (u8)v; }

// One output row from `taps` horizontally filtered rows (swscale's yuv2planeX: + 1 << 18,
// >> 19, clipped), 16 samples at a time.
static void vertical_row(i16 *const *rows, const i16 *c, i32 taps, u8 *out, i32 width) {
  const v128_t half = wasm_i32x4_splat(1 << 18);
  i32 x = 0;
  for (; x + 16 <= width; x += 16) {
    v128_t a0 = half, a1 = half, a2 = half, a3 = half;
    for (i32 k = 0; k < taps; k++) {
      v128_t w = wasm_i16x8_splat(c[k]);
      v128_t r0 = wasm_v128_load(rows[k] + x), r1 = wasm_v128_load(rows[k] + x + 8);
      a0 = wasm_i32x4_add(a0, wasm_i32x4_extmul_low_i16x8(r0, w));
      a1 = wasm_i32x4_add(a1, wasm_i32x4_extmul_high_i16x8(r0, w));
      a2 = wasm_i32x4_add(a2, wasm_i32x4_extmul_low_i16x8(r1, w));
      a3 = wasm_i32x4_add(a3, wasm_i32x4_extmul_high_i16x8(r1, w));
    }
    v128_t lo = wasm_i16x8_narrow_i32x4(wasm_i32x4_shr(a0, 19), wasm_i32x4_shr(a1, 19));
    v128_t hi = wasm_i16x8_narrow_i32x4(wasm_i32x4_shr(a2, 19), wasm_i32x4_shr(a3, 19));
    wasm_v128_store(out + x, wasm_u8x16_narrow_i16x8(lo, hi));
  }
  for (; x < width; x++) {
    i32 v = 1 << 18;
    for (i32 k = 0; k < taps; k++) v += rows[k][x] * c[k];
    out[x] = clip_u8(v >> 19);
  }
}

/**
 * Scale one plane. `ring` holds vertical-taps rows of round_up(dw, 16) 16-bit samples:
 * each source row is filtered horizontally once, when an output row first needs it.
 * The source must be readable 8 bytes past its last row (taps are read 8 at a time).
 */
EXPORT(scale_plane)
void scale_plane(const u8 *src, i32 src_stride, i32 sh, u8 *dst, i32 dst_stride, i32 dw, i32 dh,
                 const Filter *hf, const Filter *vf, i16 *ring) {
  const i32 n = round_up(dw, 8), ring_stride = round_up(dw, 16), vtaps = vf->taps;
  const i16 *hc = coefs((Filter *)hf, dw), *vc = coefs((Filter *)vf, dh);
  i16 *rows[MAX_TAPS];
  i32 next = 0;  // the next source row to filter horizontally
  for (i32 y = 0; y < dh; y++) {
    i32 first = vf->pos[y];
    if (next < first) next = first;  // rows no output needs are skipped
    for (; next < first + vtaps && next < sh; next++)
      horizontal_row(src + next * src_stride, ring + (next % vtaps) * ring_stride, n, hf, hc);
    for (i32 k = 0; k < vtaps; k++) rows[k] = ring + ((first + k) % vtaps) * ring_stride;
    vertical_row(rows, vc + y * vtaps, vtaps, dst + y * dst_stride, dw);
  }
}
