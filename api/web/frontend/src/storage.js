// The draft kept across reloads: the program per language, stdin, tests and limits (localStorage).

const KEY = "executioner.draft.v1";

/** The saved draft, or an empty one. */
export function loadDraft() {
  try {
    const draft = JSON.parse(localStorage.getItem(KEY) ?? "{}");
    return { sources: {}, ...draft };
  } catch {
    return { sources: {} }; // unreadable (an older format): start afresh
  }
}

/** Save `draft`; in a private window or with a full quota the draft just is not kept. */
export function saveDraft(draft) {
  try {
    localStorage.setItem(KEY, JSON.stringify(draft));
  } catch {
    // Nothing to tell the user: the page works the same without a saved draft.
  }
}
