// The queue's part of the page: one row per clip, the counts indicator, device notices and
// storage use. A dumb view: Python decides every word and state and calls these; a press
// on an item's control comes back as a document "medpress:item" event {id, action}.

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

function make(tag, attributes = {}, text = "") {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.textContent = text;
  return element;
}

function row(id) {
  const list = byTestId("queue");
  let item = list.querySelector(`[data-item-id="${CSS.escape(id)}"]`);
  if (!item) {
    item = make("li", { "data-testid": "queue-item", "data-item-id": id, class: "queue-item" });
    const head = make("div", { class: "item-head" });
    head.append(make("span", { "data-testid": "item-title", class: "item-title" }),
      make("span", { "data-testid": "item-percent", class: "item-percent" }));
    item.append(head, make("progress", { "data-testid": "item-progress", max: "100", value: "0" }),
      make("p", { "data-testid": "item-status", class: "item-status", role: "status" }),
      make("div", { class: "item-actions" }));
    list.append(item);
  }
  return item;
}

/**
 * Show one clip: {id, state, title, message, percent (null: indeterminate while working),
 * uploadUrl, controls: [{action, label}]}. Rows keep the order they were first shown in.
 */
export function renderItem({ id, state, title, message, percent = null, uploadUrl = null, controls = [] }) {
  byTestId("queue-section").hidden = false;
  const item = row(id);
  item.dataset.state = state;
  if (uploadUrl) item.dataset.uploadUrl = uploadUrl;
  else delete item.dataset.uploadUrl;
  item.querySelector(".item-title").textContent = title;
  item.querySelector(".item-status").textContent = message;
  const bar = item.querySelector("progress");
  if (percent === null || percent === undefined) bar.removeAttribute("value");
  else bar.value = percent;
  item.querySelector(".item-percent").textContent =
    percent === null || percent === undefined ? "" : `${Math.round(percent)}%`;
  const actions = item.querySelector(".item-actions");
  const wanted = controls.map(({ action, label }) => `${action}:${label}`).join("|");
  if (actions.dataset.controls !== wanted) {  // rebuilt only when they change (keeps focus)
    actions.dataset.controls = wanted;
    actions.replaceChildren(...controls.map(({ action, label }) => make("button", {
      type: "button", "data-testid": `item-${action}`, "data-action": action,
      class: action === "bypass" ? "danger small" : "secondary small",
    }, label)));
  }
}

export function removeItem(id) {
  byTestId("queue").querySelector(`[data-item-id="${CSS.escape(id)}"]`)?.remove();
}

/** The counts indicator: {waiting, uploading, done, failed} and its sentence. */
export function renderSummary({ counts, text }) {
  const indicator = byTestId("indicator");
  for (const [name, value] of Object.entries(counts)) indicator.dataset[name] = String(value);
  indicator.textContent = text;
}

/** What this page keeps in the browser's storage, and what it could not keep. */
export function renderStorage(text) {
  byTestId("storage").textContent = text;
}

/** Notices about the device or the day: [{id, text, action?: {name, label}}]; [] clears. */
export function renderNotices(notices) {
  const box = byTestId("notices");
  box.replaceChildren(...notices.map(({ id, text, action }) => {
    const notice = make("p", { "data-testid": "notice", "data-notice": id, class: "notice" }, text);
    if (action) {
      notice.append(" ", make("button", {
        type: "button", "data-testid": action.name, "data-page-action": action.name, class: "secondary small",
      }, action.label));
    }
    return notice;
  }));
  box.hidden = notices.length === 0;
}

byTestId("queue").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const id = button.closest("[data-item-id]").dataset.itemId;
  document.dispatchEvent(new CustomEvent("medpress:item", { detail: { id, action: button.dataset.action } }));
});
byTestId("notices").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-page-action]");
  if (button) document.dispatchEvent(new CustomEvent("medpress:page", { detail: { action: button.dataset.pageAction } }));
});

// Drag and drop: files dropped on the form join the queue like files chosen in the picker.
const form = byTestId("send-form");
form.addEventListener("dragover", (event) => {
  event.preventDefault();
  form.classList.add("dropping");
});
form.addEventListener("dragleave", () => form.classList.remove("dropping"));
form.addEventListener("drop", (event) => {
  event.preventDefault();
  form.classList.remove("dropping");
  if (!event.dataTransfer?.files.length) return;
  const input = byTestId("file-input");
  input.files = event.dataTransfer.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
});

/** Everything has arrived: a system notification too, where the clinician allowed them. */
export function notifyAllArrived(text) {
  if (typeof Notification !== "undefined" && Notification.permission === "granted") {
    new Notification("medpress", { body: text, tag: "medpress-all-arrived" });
  }
}

/** Asked once, when a series starts: may medpress say by a system notification that it all arrived? */
export function askToNotify() {
  if (typeof Notification !== "undefined" && Notification.permission === "default") {
    Notification.requestPermission().catch(() => {});
  }
}

// Leaving the page while clips are still waiting, compressing or uploading asks first (the
// browser's own prompt). Nothing would be lost (the queue is kept), but work would pause.
let workPending = false;
export const setWorkPending = (pending) => { workPending = Boolean(pending); };
window.addEventListener("beforeunload", (event) => {
  if (workPending) event.preventDefault();
});
