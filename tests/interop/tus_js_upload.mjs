// Upload a file to a tus server with tus-js-client under Node, driven by test_tus_js_client.py.
//
//   node tus_js_upload.mjs '<json options>'
//
// Options: endpoint, file, token, chunkSize, stopAfterChunks (abort after that many
// chunks, as a dropped connection would), uploadUrl (resume that upload instead of
// creating one), parallelUploads, overridePatchMethod, uploadDataDuringCreation,
// uploadLengthDeferred. Prints one JSON line: {"url", "offset", "done"} or {"error"}.
import { readFileSync } from "node:fs";
import * as tus from "tus-js-client";

const options = JSON.parse(process.argv[2]);
const data = readFileSync(options.file);
let chunks = 0;

function finish(result, code = 0) {
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(code);
}

const upload = new tus.Upload(data, {
  endpoint: options.endpoint,
  uploadUrl: options.uploadUrl ?? null,
  headers: { Authorization: `Bearer ${options.token}` },
  chunkSize: options.chunkSize ?? Number.POSITIVE_INFINITY,
  parallelUploads: options.parallelUploads ?? 1,
  overridePatchMethod: options.overridePatchMethod ?? false,
  uploadDataDuringCreation: options.uploadDataDuringCreation ?? false,
  uploadLengthDeferred: options.uploadLengthDeferred ?? false,
  metadata: { filename: "clip.mp4", filetype: "video/mp4" },
  retryDelays: [0, 200, 500, 1000],
  storeFingerprintForResuming: false,
  onChunkComplete(_chunkSize, bytesAccepted) {
    chunks += 1;
    if (options.stopAfterChunks && chunks >= options.stopAfterChunks) {
      upload.abort(false).then(() => finish({ url: upload.url, offset: bytesAccepted, done: false }));
    }
  },
  onSuccess() {
    finish({ url: upload.url, offset: data.length, done: true });
  },
  onError(error) {
    finish({ error: String(error) }, 1);
  },
});
upload.start();
