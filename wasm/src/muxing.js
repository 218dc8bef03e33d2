// What the workers that mux MP4 with mediabunny share: a file's WebCodecs worker
// (webcodecs-worker.js), the camera's (capture-worker.js) and x264's segments
// (segment-worker.js).
import { EncodedPacketSink, Mp4OutputFormat } from "../mediabunny/mediabunny.mjs";
import { FragmentStore } from "./fragment-store.js";

export const TIME_EPSILON_S = 1e-4;  // source times compared: equal within this

// Fragmented output: a fragment per keyframe interval. mediabunny begins a fragment at a
// keyframe once the current one is at least minimumFragmentDuration long; just under the
// interval the encoder is given keyframes at (sample times, rounded to microseconds in the
// chunks), so that the keyframes we ask for begin fragments and no other keyframe does.
const FRAGMENT_SLACK_S = 0.001;

/** Fragmented MP4 with a fragment per keyframe interval (the encoder's forced keyframes, none
 * closer than `shortestS`). */
export function fragmentedMp4(shortestS) {
  return new Mp4OutputFormat({ fastStart: "fragmented", minimumFragmentDuration: shortestS - FRAGMENT_SLACK_S });
}

/** Encoded chunks → the muxer's `source`, strictly in order; `drained()` waits for the last one. */
export function serialAdder(source) {
  let chain = Promise.resolve();
  const add = (packet, meta) => {
    chain = chain.then(() => source.add(packet, meta));
    return chain;
  };
  add.drained = () => chain;
  return add;
}

/**
 * A FragmentStore (streams/<streamKey>/, `about`: {plan, engine, encoder}) whose pieces this
 * worker announces to the page, each as a message {type: "fragment", index, offset, size,
 * sha256, mediaStart, mediaEnd, bytes (a copy: the page uploads it at once, without reading
 * back a file still being appended to)}. First the page is told whether kept pieces go on
 * ({type: "stream", resumed: null or {pieces, frames, videoEnd}}), then they are announced again.
 */
export async function openAnnounced(streamKey, about, resume) {
  const announce = ({ index, offset, size, sha256, mediaStart, mediaEnd }, piece) => {
    const bytes = piece.slice().buffer;
    self.postMessage({ type: "fragment", index, offset, size, sha256, mediaStart, mediaEnd, bytes }, [bytes]);
  };
  const store = await FragmentStore.open(streamKey, about, announce, { resume });
  const { pieces, frames, videoEnd } = store.resumed ?? {};
  self.postMessage({ type: "stream", resumed: store.resumed && { pieces, frames, videoEnd } });
  if (store.resumed) console.info(`medpress stream resumed: ${pieces} pieces (${frames} frames) kept, from ${videoEnd.toFixed(3)} s`);
  store.replay();
  return store;
}

/** The source's audio `track` copied into `source`, from the packet at `from` (s, a resumed
 * output: where its audio ended) or from the first. */
export async function copyAudio(track, source, from = null) {
  const decoderConfig = await track.getDecoderConfig();
  const sink = new EncodedPacketSink(track);
  let start;
  if (from !== null) {
    start = await sink.getPacket(from) ?? await sink.getFirstPacket();
    if (start && start.timestamp < from - TIME_EPSILON_S) start = await sink.getNextPacket(start);
    if (!start) return;
  }
  let first = true;
  for await (const packet of sink.packets(start)) {
    await source.add(packet, first ? { decoderConfig } : undefined);
    first = false;
  }
}

/** Where a resumed output's audio goes on, in source time: the stored audio's end (its decode
 * time, which the muxer began at the first packet's time when that was negative: an encoder's
 * priming), or the start (null) when no audio was stored. `resumed`: the store's. */
export async function audioResumesAt(audio, { ends, videoTrack }) {
  const track = [...ends.keys()].find((id) => id !== videoTrack);
  if (track === undefined) return null;
  const first = await new EncodedPacketSink(audio).getFirstPacket();
  return ends.get(track) + Math.min(first?.timestamp ?? 0, 0);
}
