// Strips identifying container metadata from an original without re-encoding, in its own
// module Web Worker: mediabunny copies every track, packet for packet, into a new container of
// the same kind and writes no descriptive tags (title, comment, GPS location, device serial).
import {
  ALL_FORMATS, BlobSource, BufferTarget, Conversion, Input, MkvOutputFormat, MovOutputFormat,
  Mp4OutputFormat, Output, WebMOutputFormat,
} from "../mediabunny/mediabunny.mjs";

const SAME_KIND = {
  "video/mp4": Mp4OutputFormat,
  "video/quicktime": MovOutputFormat,
  "video/webm": WebMOutputFormat,
  "video/x-matroska": MkvOutputFormat,
};

class RemuxError extends Error {
  constructor(code) {
    super(code);
    this.code = code;  // stable, free of patient data
  }
}

async function strip(file, onProgress) {
  const input = new Input({ source: new BlobSource(file), formats: ALL_FORMATS });
  const type = (await input.getMimeType()).split(";")[0];
  const Format = SAME_KIND[type];
  if (!Format) throw new RemuxError("unsupported-container");
  const output = new Output({ format: new Format(), target: new BufferTarget() });
  const conversion = await Conversion.init({
    input,
    output,
    tags: {},  // none of the source's
    video: { forceTranscode: false },
    audio: { forceTranscode: false },
    showWarnings: false,
  });
  // Every track copied as it is, or nothing: never a dropped track, never a re-encode.
  if (!conversion.isValid || conversion.discardedTracks.length) throw new RemuxError("would-drop-tracks");
  conversion.onProgress = onProgress;
  await conversion.execute();
  return { buffer: output.target.buffer, type };
}

self.onmessage = async ({ data: { file } }) => {
  try {
    const { buffer, type } = await strip(file, (share) => self.postMessage({ type: "progress", share }));
    self.postMessage({ type: "done", buffer, mime: type }, [buffer]);
  } catch (error) {
    self.postMessage({ type: "error", code: error?.code || "remux-failed" });
  }
};
