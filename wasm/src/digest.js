// SHA-256 in hex digits: fragment hashes, the streamed output's, and file fingerprints.

/** The SHA-256 of `data` (an ArrayBuffer or view) as hex, its first `bytes` bytes only if asked. */
export async function sha256Hex(data, bytes = 32) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return Array.from(digest.slice(0, bytes), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
