// Where a video's keyframes are, from the container's index (an MP4's sync-sample table),
// without reading any frame: the rate probe puts its windows on them, so that seeking to a
// window decodes nothing it does not use.
import { EncodedPacketSink } from "../mediabunny/mediabunny.mjs";

const MAX_KEYFRAMES = 3600;  // one a second for an hour
const MAX_MS = 150;  // containers without an index (some WebM) are read piecemeal: give up

/** The keyframes' timestamps in seconds, ascending; null when they cannot all be listed
 * cheaply (a partial list would send every window to its end). */
export async function keyframeTimes(track) {
  const started = performance.now();
  try {
    const sink = new EncodedPacketSink(track);
    const times = [];
    let packet = await sink.getFirstKeyPacket({ metadataOnly: true });
    while (packet) {
      times.push(Math.round(packet.timestamp * 1000) / 1000);
      if (times.length > MAX_KEYFRAMES || performance.now() - started > MAX_MS) return null;
      packet = await sink.getNextKeyPacket(packet, { metadataOnly: true });
    }
    return times.sort((a, b) => a - b);
  } catch {
    return null;
  }
}
