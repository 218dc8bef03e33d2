// ffmpeg.wasm engine. The FFmpeg class runs the core in its own module Web Worker;
// this module only loads it, mounts the input and runs the arguments Python planned.
import { FFmpeg } from "../ffmpeg/index.js";

const vendor = new URL("../", import.meta.url).href;
const running = new Set();

export class TranscodeError extends Error {
  constructor(code) {
    super(code);
    this.code = code;  // stable and free of patient data: safe to log
  }
}

function coreUrls(multiThread) {
  const base = `${vendor}${multiThread ? "ffmpeg-core-mt" : "ffmpeg-core"}/`;
  const urls = { coreURL: `${base}ffmpeg-core.js`, wasmURL: `${base}ffmpeg-core.wasm` };
  if (multiThread) urls.workerURL = `${base}ffmpeg-core.worker.js`;
  return urls;
}

/**
 * Run ffmpeg on `file` (a File/Blob, mounted read-only with WORKERFS so it is never
 * copied into the wasm heap). `onLog(line)` receives ffmpeg's progress lines.
 * Resolves to the output Blob; rejects with TranscodeError.
 */
export async function transcode(file, { args, inputDir, outputPath, multiThread, onLog }) {
  const ffmpeg = new FFmpeg();
  running.add(ffmpeg);
  const tail = [];
  ffmpeg.on("log", ({ message }) => {
    tail.push(message);
    if (tail.length > 20) tail.shift();
    if (message.includes("time=")) onLog?.(message);
  });
  try {
    try {
      await ffmpeg.load(coreUrls(multiThread));
    } catch {
      throw new TranscodeError("load-failed");
    }
    await ffmpeg.createDir(inputDir);
    await ffmpeg.mount("WORKERFS", { blobs: [{ name: "source", data: file }] }, inputDir);
    const exitCode = await ffmpeg.exec(args);
    if (exitCode !== 0) {
      console.warn("ffmpeg failed", exitCode, tail.join("\n"));
      throw new TranscodeError(`exit-${exitCode}`);
    }
    const data = await ffmpeg.readFile(outputPath);
    return new Blob([data], { type: "video/mp4" });
  } catch (error) {
    if (error instanceof TranscodeError) throw error;
    throw new TranscodeError(running.has(ffmpeg) ? "engine-error" : "cancelled");
  } finally {
    if (running.delete(ffmpeg)) ffmpeg.terminate();
  }
}

/** Stop every running job at once; their promises reject with "cancelled". */
export function cancelAll() {
  for (const ffmpeg of running) {
    running.delete(ffmpeg);
    ffmpeg.terminate();
  }
}
