// What the WebCodecs workers (a file's, webcodecs-worker.js, and the camera's,
// capture-worker.js) share to mux their encoded chunks into MP4 with mediabunny.
import { Mp4OutputFormat } from "../mediabunny/mediabunny.mjs";

// Fragmented output: a fragment per keyframe interval. mediabunny begins a fragment at a
// keyframe once the current one is at least minimumFragmentDuration long; just under the
// interval the encoder is given keyframes at (sample times, rounded to microseconds in the
// chunks), so that the keyframes we ask for begin fragments and no other keyframe does.
const FRAGMENT_SLACK_S = 0.001;

/** Fragmented MP4 with a fragment per `keyIntervalS` (the encoder's forced keyframes). */
export function fragmentedMp4(keyIntervalS) {
  return new Mp4OutputFormat({ fastStart: "fragmented", minimumFragmentDuration: keyIntervalS - FRAGMENT_SLACK_S });
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
