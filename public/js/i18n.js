// The page's language and its texts, from the one catalogue Python uses too
// (client/core/locales/<language>.json; wasm/build.py copies them all to
// <vendor>/i18n/catalogue.json). Plain JS, so the page and "Send original now" speak the
// clinician's language before (and without) Python.
//
// Which language: ?lang=en or ?lang=pt-BR wins; then the switch on the page (remembered in
// localStorage, the language code only); then navigator.language (pt, pt-BR, pt-PT → pt-BR;
// anything else → en). <html lang> always says the choice, and each change (and the
// catalogue's arrival) is announced with a "medpress:language" event on document, which
// status.js and Python follow.
//
// Static text: an element with data-i18n="key" gets that text; data-i18n-title and
// data-i18n-aria-label set those attributes. Texts take {placeholders}: t(key, {name}).

export const LANGUAGES = ["en", "pt-BR"];
const DEFAULT = "en";
const STORAGE_KEY = "medpress.language";
const LOAD_TIMEOUT_MS = 5000;

let catalogue = null;  // {language: {key: text}} once loaded
let current = chooseLanguage();
document.documentElement.lang = current;

/** A supported language for a BCP 47 tag, or null. */
export function normalise(tag) {
  const primary = String(tag ?? "").trim().replaceAll("_", "-").split("-")[0].toLowerCase();
  if (primary === "pt") return "pt-BR";
  if (primary === "en") return "en";
  return null;
}

function remembered() {
  try {
    return normalise(localStorage.getItem(STORAGE_KEY));
  } catch {
    return null;  // storage disabled: the choice lasts as long as the page
  }
}

function chooseLanguage() {
  return normalise(new URLSearchParams(location.search).get("lang"))
    ?? remembered()
    ?? normalise(navigator.language)
    ?? DEFAULT;
}

export const language = () => current;

export const has = (key) => Boolean(catalogue && Object.hasOwn(catalogue[current] ?? {}, key));

/** The current language's text for `key`, placeholders filled from `params`. */
export function t(key, params = {}) {
  const texts = catalogue?.[current] ?? {};
  if (!Object.hasOwn(texts, key)) return key;  // only if the catalogue could not be loaded
  return texts[key].replace(/\{(\w+)\}/g, (whole, name) => (
    Object.hasOwn(params, name) ? String(params[name]) : whole));
}

/** `value` with `digits` decimals and the current language's separator ("12,3"). */
export function decimal(value, digits = 1) {
  return value.toFixed(digits).replace(".", t("number.decimal"));
}

/** The key whose text in `lang` is exactly `text`, or null (to re-say a message). */
export function keyOf(text, lang) {
  const texts = catalogue?.[lang] ?? {};
  return Object.keys(texts).find((key) => texts[key] === text) ?? null;
}

function applyStaticText() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of document.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  }
  const select = document.querySelector('[data-testid="language"]');
  if (select) {
    for (const option of select.options) {
      option.textContent = catalogue?.[option.value]?.language_name ?? option.textContent;
    }
    select.value = current;
  }
}

function announce(previous) {
  document.dispatchEvent(new CustomEvent("medpress:language", { detail: { language: current, previous } }));
}

/** Switch to `tag`'s language now: static text at once, messages from then on. */
export function setLanguage(tag, { remember = true } = {}) {
  const previous = current;
  current = normalise(tag) ?? DEFAULT;
  document.documentElement.lang = current;
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, current);
    } catch { /* storage disabled */ }
    const url = new URL(location.href);
    if (url.searchParams.has("lang")) {  // a reload keeps the choice
      url.searchParams.set("lang", current);
      history.replaceState(history.state, "", url);
    }
  }
  if (catalogue) applyStaticText();
  announce(previous);
}

async function load() {
  const vendor = document.documentElement.dataset.vendor;
  const response = await fetch(`${vendor}/i18n/catalogue.json`, { signal: AbortSignal.timeout(LOAD_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`catalogue: HTTP ${response.status}`);
  catalogue = await response.json();
  applyStaticText();
  announce(null);
}

/** Settles once the catalogue is in (or could not be had within a few seconds). */
export const ready = load().catch((error) => console.error("medpress: no message catalogue", error));

document.querySelector('[data-testid="language"]')?.addEventListener("change", (event) => {
  setLanguage(event.target.value);
});
