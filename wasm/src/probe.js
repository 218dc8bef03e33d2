// Read what Python needs to plan, without reading the file into memory: mediabunny
// demuxes lazily through a BlobSource (only the header and a few packets are read).
import { ALL_FORMATS, BlobSource, Input } from "../mediabunny/mediabunny.mjs";
import { keyframeTimes } from "./keyframes.js";

/** {container, videoCodec, audioCodec, width, height, duration, fps, canDecode, keyframes}
 * or null; `keyframes`: seconds, or null when the container does not list them cheaply. */
export async function probeMedia(file) {
  const input = new Input({ source: new BlobSource(file), formats: ALL_FORMATS });
  try {
    const video = await input.getPrimaryVideoTrack();
    if (!video) return null;
    const audio = await input.getPrimaryAudioTrack();
    const duration = await input.computeDuration();
    const stats = await video.computePacketStats(120);
    return {
      container: (await input.getFormat()).name,
      videoCodec: video.codec ?? "",
      audioCodec: audio ? (audio.codec ?? "unknown") : "",
      width: video.displayWidth,
      height: video.displayHeight,
      duration,
      fps: stats.averagePacketRate || 0,
      canDecode: await video.canDecode(),
      keyframes: await keyframeTimes(video),
    };
  } catch {
    return null;  // not a container mediabunny knows, or damaged: ffprobe gets a try
  } finally {
    input.dispose?.();
  }
}
