// SSIM of one 8-bit plane against another, as ffmpeg's `ssim` filter computes it (ffmpeg
// 5.1, libavfilter/vf_ssim.c, after x264): sums over 4x4 blocks, then the SSIM of every 8x8
// window made of 2x2 neighbouring blocks (windows overlap, stepped by 4 samples), in its
// integer arithmetic (C1 = 416, C2 = 235963 for 64-sample windows) with each window's ratio
// in single precision, and the mean over the (w/4 - 1) x (h/4 - 1) windows. Only whole 4x4
// blocks count, as in ffmpeg. Used on luma (Y) by the WebCodecs worker (wasm/src/ssim.js)
// to measure the encoder's output against the pre-scaled frames it was given, in YUV.
//
// No allocation: JS lays out the planes and a scratch area (ssim_temp_bytes) in this
// module's memory and passes offsets.
// Build: clang --target=wasm32 -O3 -msimd128 -nostdlib -Wl,--no-entry (wasm/build.py).
#include <wasm_simd128.h>

typedef int i32;
typedef unsigned char u8;

#define EXPORT(name) __attribute__((export_name(#name)))

extern u8 __heap_base;

/** First byte JS may use: everything below is this module's stack and data. */
EXPORT(heap_base) i32 heap_base(void) { return (i32)&__heap_base; }

// ffmpeg's constants, computed as it does: (int)(.01*.01*255*255*64 + .5) and
// (int)(.03*.03*255*255*64*63 + .5).
static const i32 C1 = (i32)(.01 * .01 * 255 * 255 * 64 + .5);
static const i32 C2 = (i32)(.03 * .03 * 255 * 255 * 64 * 63 + .5);

// A row of 4x4 block sums, structure of arrays: s1 (sum of a), s2 (sum of b), ss (sum of
// a² + b²), s12 (sum of a·b), each `stride` ints long.
static i32 sums_stride(i32 blocks) { return (blocks + 3) / 4 * 4 + 4; }

/** Bytes of scratch ssim_plane needs for planes `width` samples wide. */
EXPORT(ssim_temp_bytes) i32 ssim_temp_bytes(i32 width) { return 2 * 4 * sums_stride(width / 4) * 4; }

// The sums of `blocks` 4x4 blocks starting at a and b, four blocks (16 samples) at a time.
static void block_sums(const u8 *a, i32 a_stride, const u8 *b, i32 b_stride, i32 *out, i32 stride,
                       i32 blocks) {
  i32 *s1 = out, *s2 = out + stride, *ss = out + 2 * stride, *s12 = out + 3 * stride;
  i32 z = 0;
  for (; z + 4 <= blocks; z += 4) {
    v128_t a_lo = wasm_i16x8_splat(0), a_hi = a_lo, b_lo = a_lo, b_hi = a_lo;  // 16-bit sums
    v128_t sq_lo = wasm_i32x4_splat(0), sq_hi = sq_lo, ab_lo = sq_lo, ab_hi = sq_lo;  // pairs
    for (i32 y = 0; y < 4; y++) {
      v128_t va = wasm_v128_load(a + y * a_stride + 4 * z), vb = wasm_v128_load(b + y * b_stride + 4 * z);
      v128_t al = wasm_u16x8_extend_low_u8x16(va), ah = wasm_u16x8_extend_high_u8x16(va);
      v128_t bl = wasm_u16x8_extend_low_u8x16(vb), bh = wasm_u16x8_extend_high_u8x16(vb);
      a_lo = wasm_i16x8_add(a_lo, al), a_hi = wasm_i16x8_add(a_hi, ah);
      b_lo = wasm_i16x8_add(b_lo, bl), b_hi = wasm_i16x8_add(b_hi, bh);
      sq_lo = wasm_i32x4_add(sq_lo, wasm_i32x4_add(wasm_i32x4_dot_i16x8(al, al), wasm_i32x4_dot_i16x8(bl, bl)));
      sq_hi = wasm_i32x4_add(sq_hi, wasm_i32x4_add(wasm_i32x4_dot_i16x8(ah, ah), wasm_i32x4_dot_i16x8(bh, bh)));
      ab_lo = wasm_i32x4_add(ab_lo, wasm_i32x4_dot_i16x8(al, bl));
      ab_hi = wasm_i32x4_add(ab_hi, wasm_i32x4_dot_i16x8(ah, bh));
    }
    // Each lane so far holds two neighbouring columns; a block is two neighbouring lanes.
#define BLOCKS(lo, hi) \
  wasm_i32x4_add(wasm_i32x4_shuffle(lo, hi, 0, 2, 4, 6), wasm_i32x4_shuffle(lo, hi, 1, 3, 5, 7))
    wasm_v128_store(s1 + z, BLOCKS(wasm_u32x4_extadd_pairwise_u16x8(a_lo), wasm_u32x4_extadd_pairwise_u16x8(a_hi)));
    wasm_v128_store(s2 + z, BLOCKS(wasm_u32x4_extadd_pairwise_u16x8(b_lo), wasm_u32x4_extadd_pairwise_u16x8(b_hi)));
    wasm_v128_store(ss + z, BLOCKS(sq_lo, sq_hi));
    wasm_v128_store(s12 + z, BLOCKS(ab_lo, ab_hi));
#undef BLOCKS
  }
  for (; z < blocks; z++) {
    i32 t1 = 0, t2 = 0, tss = 0, t12 = 0;
    for (i32 y = 0; y < 4; y++) {
      for (i32 x = 0; x < 4; x++) {
        i32 va = a[y * a_stride + 4 * z + x], vb = b[y * b_stride + 4 * z + x];
        t1 += va, t2 += vb, tss += va * va + vb * vb, t12 += va * vb;
      }
    }
    s1[z] = t1, s2[z] = t2, ss[z] = tss, s12[z] = t12;
  }
}

// ffmpeg's ssim_end1: one 8x8 window from its four block sums.
static float window_ssim(i32 s1, i32 s2, i32 ss, i32 s12) {
  i32 vars = ss * 64 - s1 * s1 - s2 * s2;
  i32 covar = s12 * 64 - s1 * s2;
  return (float)(2 * s1 * s2 + C1) * (float)(2 * covar + C2) /
         ((float)(s1 * s1 + s2 * s2 + C1) * (float)(vars + C2));
}

// The sum of the SSIM of the `windows` windows between two rows of block sums, four
// windows at a time (the same single-precision operations per window as ffmpeg's).
static double row_ssim(const i32 *r0, const i32 *r1, i32 stride, i32 windows) {
  const i32 *p1 = r0, *p2 = r0 + stride, *pss = r0 + 2 * stride, *p12 = r0 + 3 * stride;
  const i32 *q1 = r1, *q2 = r1 + stride, *qss = r1 + 2 * stride, *q12 = r1 + 3 * stride;
  const v128_t c1 = wasm_i32x4_splat(C1), c2 = wasm_i32x4_splat(C2);
  v128_t acc = wasm_f32x4_splat(0);
  i32 i = 0;
#define WINDOW4(p, q) \
  wasm_i32x4_add(wasm_i32x4_add(wasm_v128_load(p + i), wasm_v128_load(p + i + 1)), \
                 wasm_i32x4_add(wasm_v128_load(q + i), wasm_v128_load(q + i + 1)))
  for (; i + 4 <= windows; i += 4) {
    v128_t s1 = WINDOW4(p1, q1), s2 = WINDOW4(p2, q2), ss = WINDOW4(pss, qss), s12 = WINDOW4(p12, q12);
    v128_t s1s1 = wasm_i32x4_mul(s1, s1), s2s2 = wasm_i32x4_mul(s2, s2), s1s2 = wasm_i32x4_mul(s1, s2);
    v128_t vars = wasm_i32x4_sub(wasm_i32x4_sub(wasm_i32x4_shl(ss, 6), s1s1), s2s2);
    v128_t covar = wasm_i32x4_sub(wasm_i32x4_shl(s12, 6), s1s2);
    v128_t num = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_i32x4_add(wasm_i32x4_shl(s1s2, 1), c1)),
                                wasm_f32x4_convert_i32x4(wasm_i32x4_add(wasm_i32x4_shl(covar, 1), c2)));
    v128_t den = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_i32x4_add(wasm_i32x4_add(s1s1, s2s2), c1)),
                                wasm_f32x4_convert_i32x4(wasm_i32x4_add(vars, c2)));
    acc = wasm_f32x4_add(acc, wasm_f32x4_div(num, den));
  }
#undef WINDOW4
  float sum = (wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1)) +
              (wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3));
  for (; i < windows; i++)
    sum += window_ssim(p1[i] + p1[i + 1] + q1[i] + q1[i + 1], p2[i] + p2[i + 1] + q2[i] + q2[i + 1],
                       pss[i] + pss[i + 1] + qss[i] + qss[i + 1], p12[i] + p12[i + 1] + q12[i] + q12[i + 1]);
  return sum;
}

/**
 * Mean SSIM of plane a against plane b (both `width` x `height`, 8 bits), ffmpeg's figure
 * for that plane. `temp` holds ssim_temp_bytes(width). Planes smaller than 8x8 score 1.
 */
EXPORT(ssim_plane)
double ssim_plane(const u8 *a, i32 a_stride, const u8 *b, i32 b_stride, i32 width, i32 height, i32 *temp) {
  const i32 blocks = width / 4, rows = height / 4, stride = sums_stride(blocks);
  if (blocks < 2 || rows < 2) return 1.0;
  i32 *row0 = temp, *row1 = temp + 4 * stride;
  double total = 0;
  block_sums(a, a_stride, b, b_stride, row0, stride, blocks);
  for (i32 y = 1; y < rows; y++) {
    block_sums(a + 4 * y * a_stride, a_stride, b + 4 * y * b_stride, b_stride, row1, stride, blocks);
    total += row_ssim(row0, row1, stride, blocks - 1);
    i32 *swap = row0;
    row0 = row1, row1 = swap;
  }
  return total / ((double)(rows - 1) * (blocks - 1));
}
