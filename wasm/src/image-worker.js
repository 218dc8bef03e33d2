// Still images, in a module Web Worker: re-encode photos and draw poster frames.
// Drawing onto a canvas and encoding anew keeps only pixels: EXIF (GPS location, camera
// serial, names) is gone, and createImageBitmap applies the EXIF orientation first.
import { ALL_FORMATS, BlobSource, Input, VideoSampleSink } from "../mediabunny/mediabunny.mjs";

class EngineError extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

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
    // The frame is in stored orientation; draw it rotated as the player would show it.
    const quarterTurn = track.rotation % 180 !== 0;
    const [w, h] = [frame.displayWidth, frame.displayHeight];
    const canvas = new OffscreenCanvas(quarterTurn ? h : w, quarterTurn ? w : h);
    const context = canvas.getContext("2d");
    context.translate(canvas.width / 2, canvas.height / 2);
    context.rotate((track.rotation * Math.PI) / 180);
    context.drawImage(frame, -w / 2, -h / 2, w, h);
    return await encode(canvas, canvas.width, canvas.height, options);
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
