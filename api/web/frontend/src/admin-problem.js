// `/admin/problems/new`: create a problem (POST /api/v1/problems) and upload its tests as a zip (PUT
// /api/v1/problems/<slug>/tests), with the admin token the user pastes. The token stays in this tab's
// sessionStorage: never in localStorage, a URL or a cookie. The API's refusals are shown next to the
// field they name (a bad archive entry at the file field). See ../../pages/admin-problem.html.
import { ApiError, createProblem, uploadTests } from "./api.js";
import { clearFieldErrors, showFieldError } from "./field-errors.js";
import { describe, hideNotice, showNotice } from "./notice.js";

const TOKEN_KEY = "executioner.admin-token";
const LIMITS = ["time_ms", "memory_mb"];

const byId = (id) => document.getElementById(id);
const tokenInput = byId("admin-token");

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

function keepToken() {
  try {
    sessionStorage.setItem(TOKEN_KEY, tokenInput.value);
  } catch {
    // Storage refused (a sandboxed frame): the field still holds the token for this page.
  }
}

/** The token, or undefined after showing that it is missing. */
function token() {
  const value = tokenInput.value.trim();
  if (value) return value;
  showFieldError("token", "Paste the admin token first.", {});
  return undefined;
}

function buildProblem() {
  const limits = {};
  for (const name of LIMITS) {
    const raw = byId(`limit-${name}`).value.trim();
    // Anything typed is sent: the API says what is wrong with it, next to this field.
    if (raw) limits[name] = Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return {
    slug: byId("slug").value.trim(),
    title: byId("title").value,
    statement: byId("statement-source").value,
    limits,
    compare: byId("compare").value,
    tests: [
      {
        input: byId("test-input").value,
        expected_output: byId("test-output").value,
        sample: byId("test-sample").checked,
      },
    ],
  };
}

/** Show an API failure: at the field it names (`fields` maps the API's names to this form's), at the
 * token for 401/403, else in the notice (with Retry when trying again may work). */
function showFailure(error, what, fields, retry) {
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
    showFieldError("token", error.message, {});
  } else if (error instanceof ApiError && error.isClientError) {
    const field = fields[error.field] ?? error.field;
    if (!showFieldError(field, error.message, {})) showNotice(`${what}: ${error.message}`);
  } else {
    showNotice(describe(error, what), retry);
  }
}

/** Run `action` with `button` busy and the form's old errors cleared. */
async function busy(button, action) {
  if (button.getAttribute("aria-busy") === "true") return;
  button.setAttribute("aria-busy", "true");
  clearFieldErrors();
  hideNotice();
  try {
    await action();
  } finally {
    button.removeAttribute("aria-busy");
  }
}

function problemLink(slug, text) {
  const link = document.createElement("a");
  link.href = `/problems/${encodeURIComponent(slug)}`;
  link.textContent = text;
  return link;
}

async function create() {
  const status = byId("create-status");
  status.replaceChildren();
  const secret = token();
  if (!secret) return;
  const body = buildProblem();
  try {
    const created = await createProblem(body, secret);
    status.replaceChildren(
      `Created ${created.slug} (version ${created.version}). `,
      problemLink(created.slug, "Open it"),
    );
    byId("upload-slug").value = created.slug;
    byId("archive").focus();
  } catch (error) {
    showFailure(error, "The problem was not created", {}, () => busy(byId("create"), create));
  }
}

async function upload() {
  const status = byId("upload-status");
  status.replaceChildren();
  const slug = byId("upload-slug").value.trim();
  const file = byId("archive").files[0];
  if (!slug) return showFieldError("upload-slug", "Which problem? Give its slug.", {});
  if (!file) return showFieldError("archive", "Choose a zip archive of the tests.", {});
  const secret = token();
  if (!secret) return;
  try {
    const updated = await uploadTests(slug, file, secret);
    const samples = updated.samples.length;
    status.replaceChildren(
      `Uploaded: ${updated.slug} is at version ${updated.version} with ${updated.tests} tests ` +
        `(${samples} sample${samples === 1 ? "" : "s"}). `,
      problemLink(updated.slug, "Open it"),
    );
  } catch (error) {
    // A missing problem is the slug's fault; a refused body (type, size) the archive's.
    const notFound = error instanceof ApiError && error.status === 404;
    if (notFound) showFieldError("upload-slug", `There is no problem “${slug}”.`, {});
    else
      showFailure(error, "The tests were not uploaded", { "content-type": "archive" }, () =>
        busy(byId("upload"), upload),
      );
  }
}

tokenInput.value = storedToken();
tokenInput.addEventListener("input", keepToken);
byId("token-form").addEventListener("submit", (event) => event.preventDefault());
byId("create-form").addEventListener("submit", (event) => {
  event.preventDefault();
  busy(byId("create"), create);
});
byId("upload-form").addEventListener("submit", (event) => {
  event.preventDefault();
  busy(byId("upload"), upload);
});
byId("boot-message").hidden = true;
byId("app").hidden = false;
