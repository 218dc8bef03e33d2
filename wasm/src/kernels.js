// Our small WebAssembly kernels (wasm/kernels/*.c, built beside this file): loading one
// instance per worker, and laying out its memory. JS lays out every buffer and passes
// offsets; the kernels allocate nothing.

const PAGE = 65536;
export const SLACK = 64;  // kernels may read a few bytes past a plane; buffers start 64-aligned

export const align = (n) => Math.ceil(n / SLACK) * SLACK;

const loaded = new Map();  // name → Promise of the instance's exports

/** The exports of `<name>.wasm`, instantiated once per worker. */
export function loadKernel(name) {
  if (!loaded.has(name)) {
    loaded.set(name, fetch(new URL(`./${name}.wasm`, import.meta.url))
      .then((response) => {
        if (!response.ok) throw new Error(`${name}.wasm: HTTP ${response.status}`);
        return response.arrayBuffer();
      })
      .then((bytes) => WebAssembly.instantiate(bytes))
      .then(({ instance }) => instance.exports));
  }
  return loaded.get(name);
}

/** Grow `memory` so it holds at least `bytes`. */
export function ensureMemory(memory, bytes) {
  if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
}
