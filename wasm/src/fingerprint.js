// A name-free fingerprint of a chosen file: enough to recognise the same file when it is
// chosen again (after a reload), and nothing that could name a patient.
const HEAD_BYTES = 1024 * 1024;

/** "size-lastModified-type-sha256(first MiB)" (hex, 32 digits); type may be empty. */
export async function fingerprint(file) {
  const head = await file.slice(0, HEAD_BYTES).arrayBuffer();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", head));
  const hex = Array.from(digest.slice(0, 16), (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${file.size}-${file.lastModified}-${file.type}-${hex}`;
}
