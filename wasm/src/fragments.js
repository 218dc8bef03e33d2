// A fragmented MP4, as a muxer appends it, cut into the pieces medpress stores and uploads one
// by one: the init segment (every top-level box before the first moof: ftyp, moov), then each
// fragment, from one moof to the next (moof, mdat), the last one with whatever follows it (the
// muxer's trailer, an mfra). Pure: bytes in, bytes out.

const HEADER = 8;  // size (u32) + type; size 1: a 64-bit size follows the type

/**
 * The box at `at` in `bytes`: {type, size, header} (header: the bytes before its payload), or
 * null while its header is incomplete.
 */
function boxAt(bytes, at) {
  if (at + HEADER > bytes.length) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at);
  const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
  let size = view.getUint32(0);
  let header = HEADER;
  if (size === 1) {
    header = 2 * HEADER;
    if (at + header > bytes.length) return null;
    size = Number(view.getBigUint64(8));
  } else if (size === 0) {
    size = Infinity;  // to the end of the stream
  }
  if (size < header) throw new Error(`bad MP4 box size ${size} (${type})`);
  return { type, size, header };
}

/**
 * A piece ends where the next moof begins, or sooner: at the end of a fragment's mdat, when
 * nothing follows it yet, so that a fragment is handed on as soon as the muxer has written it,
 * not one fragment later. Once the muxer is finalizing (`finishing()`), a trailer may follow
 * the last fragment: from then on pieces end only at a moof, or at the end of the stream.
 */
export class FragmentSplitter {
  #bytes = new Uint8Array(0);  // the current piece so far
  #next = 0;  // where its next top-level box begins, in #bytes
  #types = [];  // the types of its boxes so far
  #finishing = false;

  /** Appends `chunk` (the stream's next bytes); returns the pieces it completed, in order. */
  push(chunk) {
    const bytes = new Uint8Array(this.#bytes.length + chunk.length);
    bytes.set(this.#bytes);
    bytes.set(chunk, this.#bytes.length);
    this.#bytes = bytes;
    const pieces = [];
    for (let box; (box = boxAt(this.#bytes, this.#next));) {
      if (box.type === "moof" && this.#next > 0) pieces.push(this.#cut());
      this.#next += box.size;
      this.#types.push(box.type);
    }
    const whole = this.#next === this.#bytes.length && this.#types[0] === "moof" && this.#types.at(-1) === "mdat";
    if (whole && !this.#finishing) pieces.push(this.#cut());
    return pieces;
  }

  /** The muxer is finalizing: its last fragment, and perhaps a trailer, come next. */
  finishing() {
    this.#finishing = true;
  }

  /** The last piece, once the stream has ended (null if nothing is left). */
  end() {
    this.#next = this.#bytes.length;  // all of it, a box cut short too
    return this.#next ? this.#cut() : null;
  }

  // The current piece, up to the box at #next; the rest begins the next one.
  #cut() {
    const piece = this.#bytes.slice(0, this.#next);
    this.#bytes = this.#bytes.slice(this.#next);
    this.#next = 0;
    this.#types = [];
    return piece;
  }
}

// The boxes inside bytes[start, end) (a box's payload, or a whole piece): [{type, start, end}],
// start and end bounding each one's payload.
function children(bytes, start = 0, end = bytes.length) {
  const found = [];
  for (let at = start; at < end;) {
    const box = boxAt(bytes.subarray(0, end), at);
    if (!box) break;
    const boxEnd = Math.min(end, at + box.size);
    found.push({ type: box.type, start: at + box.header, end: boxEnd });
    at = boxEnd;
  }
  return found;
}

const child = (bytes, parent, type) => children(bytes, parent.start, parent.end).filter((box) => box.type === type);
const u32 = (bytes, at) => new DataView(bytes.buffer, bytes.byteOffset + at).getUint32(0);

/** The track_ID of the init segment's first video track (handler "vide"), or null. */
export function videoTrackId(init) {
  for (const moov of children(init).filter((box) => box.type === "moov")) {
    for (const trak of child(init, moov, "trak")) {
      const [tkhd] = child(init, trak, "tkhd");
      const hdlr = child(init, trak, "mdia").flatMap((mdia) => child(init, mdia, "hdlr"))[0];
      // tkhd: version, flags, two times (4 bytes each, 8 in version 1), then track_ID;
      // hdlr: version, flags, pre_defined, then handler_type.
      const type = hdlr && String.fromCharCode(...init.subarray(hdlr.start + 8, hdlr.start + 12));
      if (tkhd && type === "vide") return u32(init, tkhd.start + (init[tkhd.start] === 1 ? 20 : 12));
    }
  }
  return null;
}

/** How many samples of track `trackId` a fragment holds (the sample_count of its trun boxes). */
export function sampleCount(fragment, trackId) {
  let count = 0;
  for (const moof of children(fragment).filter((box) => box.type === "moof")) {
    for (const traf of child(fragment, moof, "traf")) {
      const [tfhd] = child(fragment, traf, "tfhd");  // version, flags, then track_ID
      if (!tfhd || u32(fragment, tfhd.start + 4) !== trackId) continue;
      for (const trun of child(fragment, traf, "trun")) count += u32(fragment, trun.start + 4);  // after version, flags
    }
  }
  return count;
}

// What an encode resumed after a reload needs of the pieces stored before it: where each track
// ended, to continue its decode times, and the sample descriptions, to check that the new
// encoder's init segment says the same. Everything below reads or patches moof boxes in place.

const u64 = (bytes, at) => Number(new DataView(bytes.buffer, bytes.byteOffset + at).getBigUint64(0));
const descend = (bytes, parents, path) => path.reduce(
  (boxes, type) => boxes.flatMap((box) => child(bytes, box, type)), parents);
const topLevel = (bytes, type) => children(bytes).filter((box) => box.type === type);

/** Each track's sample descriptions (its stsd box: codec and its configuration), as bytes. */
export function sampleDescriptions(init) {
  return descend(init, topLevel(init, "moov"), ["trak", "mdia", "minf", "stbl", "stsd"])
    .map((box) => init.subarray(box.start, box.end));
}

/** Whether two init segments describe their tracks' samples identically. */
export function sameDescriptions(a, b) {
  const [left, right] = [sampleDescriptions(a), sampleDescriptions(b)];
  return left.length === right.length && left.every((box, i) => box.length === right[i].length
    && box.every((byte, j) => byte === right[i][j]));
}

/** Each track's timescale (ticks per second), by track_ID, from an init segment. */
export function timescales(init) {
  const found = new Map();
  for (const trak of descend(init, topLevel(init, "moov"), ["trak"])) {
    const [tkhd] = child(init, trak, "tkhd");
    const [mdhd] = descend(init, [trak], ["mdia", "mdhd"]);
    if (!tkhd || !mdhd) continue;
    const v1 = (box) => init[box.start] === 1;
    // tkhd: see videoTrackId; mdhd: version, flags, two times (4 or 8 bytes each), timescale
    found.set(u32(init, tkhd.start + (v1(tkhd) ? 20 : 12)), u32(init, mdhd.start + (v1(mdhd) ? 20 : 12)));
  }
  return found;
}

// A traf's track_ID, its tfdt (or null) and the total duration of its samples, in its track's
// ticks (a sample without a duration of its own takes tfhd's default; mediabunny gives each its own).
function runOf(bytes, traf) {
  const [tfhd] = child(bytes, traf, "tfhd");
  const [tfdt] = child(bytes, traf, "tfdt");
  const trackId = u32(bytes, tfhd.start + 4);
  const tfhdFlags = u32(bytes, tfhd.start) & 0xffffff;
  // tfhd's optional fields, in order: base-data-offset (8), sample-description-index (4),
  // default-sample-duration (4)
  const defaultDuration = tfhdFlags & 0x8
    ? u32(bytes, tfhd.start + 8 + (tfhdFlags & 0x1 ? 8 : 0) + (tfhdFlags & 0x2 ? 4 : 0)) : 0;
  let duration = 0;
  for (const trun of child(bytes, traf, "trun")) {
    const flags = u32(bytes, trun.start) & 0xffffff;
    const count = u32(bytes, trun.start + 4);
    let at = trun.start + 8 + (flags & 0x1 ? 4 : 0) + (flags & 0x4 ? 4 : 0);
    const fields = [0x100, 0x200, 0x400, 0x800].filter((bit) => flags & bit).length;
    for (let i = 0; i < count; i++, at += 4 * fields) duration += flags & 0x100 ? u32(bytes, at) : defaultDuration;
  }
  const decodeTime = tfdt ? (bytes[tfdt.start] === 1 ? u64(bytes, tfdt.start + 4) : u32(bytes, tfdt.start + 4)) : null;
  return { trackId, tfdt, decodeTime, duration };
}

const trafs = (bytes) => descend(bytes, topLevel(bytes, "moof"), ["traf"]);

/** Where each track ends after `fragments` (in order): track_ID → decode time (ticks) of its next sample. */
export function trackEnds(fragments) {
  const ends = new Map();
  for (const fragment of fragments) {
    for (const traf of trafs(fragment)) {
      const { trackId, decodeTime, duration } = runOf(fragment, traf);
      ends.set(trackId, (decodeTime ?? ends.get(trackId) ?? 0) + duration);
    }
  }
  return ends;
}

/** Each track's first decode time (ticks) in a fragment: track_ID → tfdt. */
export function trackStarts(fragment) {
  return new Map(trafs(fragment).map((traf) => runOf(fragment, traf)).map(({ trackId, decodeTime }) => [trackId, decodeTime]));
}

/**
 * A copy of `fragment` numbered `sequence` (its mfhd) with each track's decode times moved by
 * `shifts` (track_ID → ticks added to its tfdt), so that fragments made by a second muxer
 * continue the first one's. Only tfdt version 1 (64-bit) is moved, which is what mediabunny writes.
 */
export function continued(fragment, sequence, shifts) {
  const bytes = fragment.slice();
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  for (const mfhd of descend(bytes, topLevel(bytes, "moof"), ["mfhd"])) view.setUint32(mfhd.start + 4, sequence);
  for (const traf of trafs(bytes)) {
    const { trackId, tfdt, decodeTime } = runOf(bytes, traf);
    const shift = shifts.get(trackId) ?? 0;
    if (!tfdt || !shift) continue;
    if (bytes[tfdt.start] !== 1) throw new Error("tfdt version 0 cannot be moved");
    view.setBigUint64(tfdt.start + 4, BigInt(decodeTime + shift));
  }
  return bytes;
}

/**
 * `piece` up to the end of its last mdat (empty without one): without a muxer's trailer (an
 * mfra), which would index a file that is not this one.
 */
export function withoutTrailer(piece) {
  const mdat = children(piece).filter((box) => box.type === "mdat").at(-1);
  return piece.subarray(0, mdat ? mdat.end : 0);
}
