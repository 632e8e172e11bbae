// Showing the API's 4xx errors next to the field they name (`error.field`, dotted: "limits.time_ms",
// "tests.1.expected_output"). A control carries `data-field`; its message goes in `#error-<field>`.

function spotFor(field) {
  // "tests.0.stdin" has its own spot; a field without one falls back to its parent ("limits.x" → none).
  for (let parts = field.split("."); parts.length; parts.pop()) {
    const name = parts.join(".");
    const message = document.getElementById(`error-${name}`);
    if (message)
      return { name, message, control: document.querySelector(`[data-field="${CSS.escape(name)}"]`) };
  }
  return null;
}

/** Remove every field error shown. */
export function clearFieldErrors() {
  for (const message of document.querySelectorAll(".field-error")) {
    message.hidden = true;
    message.textContent = "";
  }
  for (const control of document.querySelectorAll("[data-field][aria-invalid], [data-field][data-invalid]")) {
    control.removeAttribute("aria-invalid");
    control.removeAttribute("data-invalid");
  }
}

/**
 * Show `text` next to `field` and move the keyboard focus there; false when the page has no place for
 * that field (the caller shows it elsewhere).
 */
export function showFieldError(field, text, { focusSource }) {
  const spot = field ? spotFor(field) : null;
  if (!spot) return false;
  spot.message.textContent = text;
  spot.message.hidden = false;
  const control = spot.control;
  if (control) {
    // The editor is a <div>: aria-invalid belongs on its textbox, the red border on the box.
    control.setAttribute(
      control.matches("input, select, textarea") ? "aria-invalid" : "data-invalid",
      "true",
    );
    control.closest("details")?.setAttribute("open", "");
    if (spot.name === "source") focusSource();
    else
      (control.matches("input, select, textarea")
        ? control
        : control.querySelector("textarea, button")
      )?.focus();
  }
  return true;
}
