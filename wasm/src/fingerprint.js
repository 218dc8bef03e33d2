// A name-free fingerprint of a chosen file: enough to recognise the same file when it is
// chosen again (after a reload), and nothing that could name a patient.
import { sha256Hex } from "./digest.js";

const HEAD_BYTES = 1024 * 1024;

/** "size-lastModified-type-sha256(first MiB)" (hex, 32 digits); type may be empty. */
export async function fingerprint(file) {
  const head = await file.slice(0, HEAD_BYTES).arrayBuffer();
  return `${file.size}-${file.lastModified}-${file.type}-${await sha256Hex(head, 16)}`;
}
