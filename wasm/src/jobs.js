// Running engine jobs: one place for cancel and the no-progress watchdog.

export class EngineError extends Error {
  constructor(code) {
    super(code);
    this.code = code;  // stable and free of patient data: safe to log and to show Python
  }
}

const running = new Set();

/**
 * Start a job. `begin(alive)` starts the work and returns {promise, stop}; the job calls
 * `alive()` whenever it makes progress. If it makes none for `stallMs`, it is stopped and
 * the returned promise rejects with EngineError("stalled"); cancelAll() rejects it with
 * "cancelled". Either way `stop()` frees the worker and its memory at once.
 */
export function startJob(begin, { stallMs = 0 } = {}) {
  return new Promise((resolve, reject) => {
    let timer = null;
    let job = null;
    let settled = false;
    const settle = (fn, value) => {
      settled = true;
      clearTimeout(timer);
      running.delete(stop);
      fn(value);
    };
    const stop = (code) => {
      job?.stop();
      settle(reject, new EngineError(code));
    };
    const alive = () => {
      if (settled) return;  // a late message after the end starts no new watchdog
      clearTimeout(timer);
      if (stallMs > 0) timer = setTimeout(() => stop("stalled"), stallMs);
    };
    running.add(stop);
    alive();
    job = begin(alive);
    job.promise.then(
      (value) => settle(resolve, value),
      (error) => settle(reject, error instanceof EngineError ? error : new EngineError("engine-error")),
    );
  });
}

export function cancelAll() {
  for (const stop of running) stop("cancelled");
}

/**
 * A job run by a module Web Worker that answers {type: "done", ...} or
 * {type: "error", code}; any other message is progress. Terminating the worker frees
 * everything it held.
 */
export function workerJob(url, message, { stallMs, onProgress, result }) {
  return startJob((alive) => {
    const worker = new Worker(url, { type: "module" });
    const promise = new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => {
        alive();
        if (data.type === "done") resolve(result(data));
        else if (data.type === "error") reject(new EngineError(data.code));
        else onProgress?.(data);
      };
      worker.onerror = () => reject(new EngineError("load-failed"));
      worker.postMessage(message);
    });
    promise.finally(() => worker.terminate()).catch(() => {});
    return { promise, stop: () => worker.terminate() };
  }, { stallMs });
}
