// Running engine jobs: one place for cancel and the no-progress watchdog.

export class EngineError extends Error {
  constructor(code) {
    super(code);
    this.code = code;  // stable and free of patient data: safe to log and to show Python
  }
}

// The engines' clock: time the page was running and the engines were not paused. A frozen
// page runs no timers, so a tick that comes late counts for at most one step: a freeze (or
// a pause for a hidden page) never makes the watchdog or the time budget think an engine
// stalled or ran over.
const TICK_MS = 250;
const MAX_STEP_MS = 1000;
let activeMs = 0;
let lastTick = performance.now();
let paused = false;
const running = new Set();  // {stop, alive, lastAlive, stallMs, post}

function tick() {
  const now = performance.now();
  if (!paused) activeMs += Math.min(now - lastTick, MAX_STEP_MS);
  lastTick = now;
  for (const job of running) {
    if (job.stallMs > 0 && activeMs - job.lastAlive >= job.stallMs) job.stop("stalled");
  }
}
setInterval(tick, TICK_MS);

/** Seconds on the engines' clock (frozen and paused time left out). */
export function engineSeconds() {
  const step = paused ? 0 : Math.min(performance.now() - lastTick, MAX_STEP_MS);
  return (activeMs + step) / 1000;
}

/**
 * Start a job. `begin(alive)` starts the work and returns {promise, stop, post?}; the job
 * calls `alive()` whenever it makes progress. If it makes none for `stallMs` on the engines'
 * clock, it is stopped and the returned promise rejects with EngineError("stalled");
 * cancelAll() rejects it with "cancelled". Either way `stop()` frees the worker and its
 * memory at once. `post(message)`, if given, passes "pause"/"resume" on to the worker.
 */
export function startJob(begin, { stallMs = 0 } = {}) {
  return new Promise((resolve, reject) => {
    let settled = false;
    let work = null;
    const job = { stallMs, lastAlive: activeMs, post: null };
    const settle = (fn, value) => {
      settled = true;
      running.delete(job);
      fn(value);
    };
    job.stop = (code) => {
      work?.stop();
      settle(reject, new EngineError(code));
    };
    const alive = () => {
      if (!settled) job.lastAlive = activeMs;
    };
    running.add(job);
    work = begin(alive);
    job.post = work.post ?? null;
    if (paused) job.post?.({ type: "pause" });
    work.promise.then(
      (value) => settle(resolve, value),
      (error) => settle(reject, error instanceof EngineError ? error : new EngineError("engine-error")),
    );
  });
}

export function cancelAll() {
  for (const job of running) job.stop("cancelled");
  releaseSpares();
}

// A worker started ahead of the job that will need it (its modules and kernels load while
// another job runs): url → Worker. The next workerJob for that url takes it.
const spares = new Map();

/** Start a worker for the next job of `url` now, unless one is waiting already. */
export function spareWorker(url) {
  if (!spares.has(url.href)) spares.set(url.href, new Worker(url, { type: "module" }));
}

/** Stop the workers started ahead. */
export function releaseSpares() {
  for (const worker of spares.values()) worker.terminate();
  spares.clear();
}

function takeWorker(url) {
  const spare = spares.get(url.href);
  spares.delete(url.href);
  return spare ?? new Worker(url, { type: "module" });
}

/**
 * Pause the engines (a page hidden past its grace period): a WebCodecs worker stops feeding
 * frames, keeping all it has done; ffmpeg.wasm finishes the run under way (a clip it streams
 * then waits before its next segment; a whole-file encode runs on to its end). The engines' clock
 * stops, so neither the watchdog nor the time budget counts the pause.
 */
export function pauseEngines() {
  tick();
  paused = true;
  for (const job of running) job.post?.({ type: "pause" });
}

export function resumeEngines() {
  tick();
  paused = false;
  for (const job of running) {
    job.lastAlive = activeMs;
    job.post?.({ type: "resume" });
  }
}

/**
 * A job run by a module Web Worker that answers {type: "done", ...} or
 * {type: "error", code}; any other message is progress, given to `onProgress(data, post)`
 * with `post(message)` to answer the worker. Terminating the worker frees everything it held.
 */
export function workerJob(url, message, { stallMs, onProgress, result }) {
  return startJob((alive) => {
    const worker = takeWorker(url);
    const promise = new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => {
        alive();
        if (data.type === "done") resolve(result(data));
        else if (data.type === "error") reject(new EngineError(data.code));
        else onProgress?.(data, (answer) => worker.postMessage(answer));
      };
      worker.onerror = () => reject(new EngineError("load-failed"));
      worker.postMessage(message);
    });
    promise.finally(() => worker.terminate()).catch(() => {});
    return { promise, stop: () => worker.terminate(), post: (note) => worker.postMessage(note) };
  }, { stallMs });
}
