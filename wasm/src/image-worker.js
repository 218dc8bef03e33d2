// Still images, in a module Web Worker: re-encode photos and draw poster frames.
// Drawing onto a canvas and encoding anew keeps only pixels: EXIF (GPS location, camera
// serial, names) is gone, and createImageBitmap applies the EXIF orientation first.
import { ALL_FORMATS, BlobSource, Input, VideoSampleSink } from "../mediabunny/mediabunny.mjs";
import { drawUpright } from "./frames.js";
import { EngineError } from "./jobs.js";

function fitted(width, height, maxSide) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

async function encode(source, width, height, { maxSide, type, quality }) {
  const [w, h] = fitted(width, height, maxSide);
  const canvas = new OffscreenCanvas(w, h);
  const context = canvas.getContext("2d");
  context.imageSmoothingQuality = "high";
  context.drawImage(source, 0, 0, w, h);
  return { blob: await canvas.convertToBlob({ type, quality }), width: w, height: h };
}

async function photo(file, options) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    throw new EngineError("undecodable");
  }
  try {
    return await encode(bitmap, bitmap.width, bitmap.height, options);
  } finally {
    bitmap.close();
  }
}

async function poster(file, options) {
  const input = new Input({ source: new BlobSource(file), formats: ALL_FORMATS });
  const track = await input.getPrimaryVideoTrack();
  if (!track || !(await track.canDecode())) throw new EngineError("undecodable");
  const sample = await new VideoSampleSink(track).getSample(options.atSecond);
  if (!sample) throw new EngineError("no-frame");
  const frame = sample.toVideoFrame();
  try {
    const quarterTurn = track.rotation % 180 !== 0;
    const [w, h] = [frame.displayWidth, frame.displayHeight];
    const upright = drawUpright(frame, track.rotation, quarterTurn ? h : w, quarterTurn ? w : h);
    return await encode(upright, upright.width, upright.height, options);
  } finally {
    frame.close();
    sample.close();
  }
}

self.onmessage = async ({ data: { kind, file, options } }) => {
  try {
    const result = await (kind === "poster" ? poster(file, options) : photo(file, options));
    self.postMessage({ type: "done", ...result });
  } catch (error) {
    self.postMessage({ type: "error", code: error?.code || "engine-error" });
  }
};
