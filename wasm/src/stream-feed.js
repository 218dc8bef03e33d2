// The page's side of a worker that streams its output (webcodecs-worker.js, segment-worker.js):
// each piece it announces goes to the upload (a StreamUpload, public/js/stream-upload.js) at
// once, and is kept to make the output's Blob when the worker is done.
import { sha256Hex } from "./digest.js";

export class StreamFeed {
  constructor(stream) {
    this.stream = stream;
    this.pieces = [];
  }

  /** Takes the worker's message if it is the stream's ({type: "stream"} or a piece); says whether it was. */
  take(data) {
    if (data.type === "stream") {
      this.stream.begin(data.resumed !== null);  // kept pieces go on: the upload continues
    } else if (data.type === "fragment") {
      this.pieces.push(data.bytes);
      this.stream.append(data.bytes);
    } else {
      return false;
    }
    return true;
  }

  /** The whole output, once the worker is done; what was streamed goes on the console for QA
   * (the e2e tests compare it with what arrived). */
  async blob() {
    const blob = new Blob(this.pieces, { type: "video/mp4" });
    console.info(`medpress stream: ${this.pieces.length} pieces, ${blob.size} bytes, sha256 ${await sha256Hex(await blob.arrayBuffer())}`);
    return blob;
  }
}
