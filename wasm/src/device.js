// The device and the day, as snapshots for Python's policy (client/core/device.py):
// battery (navigator.getBattery where it exists), visibility, frozen, online, and the
// connection's effective type and data saver. `watchDevice(onChange)` calls onChange with
// a fresh snapshot at once and after every change.

export function watchDevice(onChange) {
  const state = {
    batteryLevel: undefined, charging: undefined,  // undefined, not null: Python None
    visible: document.visibilityState !== "hidden",
    hiddenSince: document.visibilityState === "hidden" ? performance.now() : undefined,
    frozen: false,
    online: navigator.onLine !== false,
    effectiveType: navigator.connection?.effectiveType,
    saveData: navigator.connection?.saveData === true,
  };
  const report = () => onChange({ ...state });

  document.addEventListener("visibilitychange", () => {
    state.visible = document.visibilityState !== "hidden";
    state.hiddenSince = state.visible ? undefined : performance.now();
    report();
  });
  // A frozen page runs nothing (its workers neither): "freeze" is the last word before it,
  // "resume" the first after.
  document.addEventListener("freeze", () => { state.frozen = true; report(); });
  document.addEventListener("resume", () => { state.frozen = false; report(); });
  window.addEventListener("online", () => { state.online = true; report(); });
  window.addEventListener("offline", () => { state.online = false; report(); });
  navigator.connection?.addEventListener?.("change", () => {
    state.effectiveType = navigator.connection.effectiveType;
    state.saveData = navigator.connection.saveData === true;
    report();
  });
  navigator.getBattery?.().then((battery) => {
    const read = () => {
      state.batteryLevel = battery.level;
      state.charging = battery.charging;
      report();
    };
    battery.addEventListener("levelchange", read);
    battery.addEventListener("chargingchange", read);
    read();
  }).catch(() => {});  // no battery to report: policy treats it as unknown
  report();
}

/** Seconds the page has been hidden (0 when visible). */
export function hiddenForSeconds(hiddenSince) {
  return hiddenSince === undefined ? 0 : (performance.now() - hiddenSince) / 1000;
}
