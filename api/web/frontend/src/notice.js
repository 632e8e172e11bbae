// The page's notice: a failure that is not the user's to fix by editing, with an optional Retry. Every
// page that talks to the API has `#notice`, `#notice-text` and `#notice-retry`.
import { ApiError } from "./api.js";

const byId = (id) => document.getElementById(id);

/** Show `text`; with `retry`, a focused Retry button that hides the notice and calls it. */
export function showNotice(text, retry) {
  byId("notice-text").textContent = text;
  byId("notice").hidden = false;
  const button = byId("notice-retry");
  button.hidden = !retry;
  button.onclick = () => {
    hideNotice();
    retry();
  };
  if (retry) button.focus();
}

export function hideNotice() {
  byId("notice").hidden = true;
}

/** What went wrong, for a failure that is not the user's to fix by editing. */
export function describe(error, what) {
  if (error instanceof ApiError)
    return `${what}: the server failed (${error.status} ${error.code}: ${error.message}).`;
  return `${what}: the server could not be reached (network error). Check the connection, then retry.`;
}
