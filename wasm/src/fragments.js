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
