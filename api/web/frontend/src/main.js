// The page: `/` edits and runs the draft kept in localStorage; `/s/<id>` shows a submission (read-only),
// live while it runs. See ../../pages/editor.html for the elements used here.
import { ApiError, createSubmission, getSubmission, listLanguages } from "./api.js";
import { createEditor } from "./editor.js";
import { clearFieldErrors, showFieldError } from "./field-errors.js";
import { starterProgram } from "./languages.js";
import { createLiveRun } from "./live-run.js";
import { describe, hideNotice, showNotice } from "./notice.js";
import { createResultView } from "./result.js";
import { loadDraft, saveDraft } from "./storage.js";
import { createTestsEditor } from "./tests-editor.js";

const LIMITS = ["time_ms", "wall_ms", "memory_mb", "output_kb"];
const STARTER_STDIN = "World\n";

const byId = (id) => document.getElementById(id);
const limitInput = (name) => byId(`limit-${name}`);
const languageSelect = byId("language");
const stdinBox = byId("stdin");
const runButton = byId("run");
const connection = byId("connection");

const sharedMatch = location.pathname.match(/^\/s\/([^/]+)\/?$/);
const sharedId = sharedMatch ? decodeURIComponent(sharedMatch[1]) : null;
const draft = loadDraft();
let submitting = false;

/** Record `changes` in the draft (a shared submission is not the user's draft). */
function keep(changes) {
  if (sharedId) return;
  Object.assign(draft, changes);
  saveDraft(draft);
}

const editor = createEditor(byId("editor"), {
  onChange: (text) => keep({ sources: { ...draft.sources, [languageSelect.value]: text } }),
  onRun: () => run(),
  describedBy: "editor-hint error-source",
});
const tests = createTestsEditor(byId("test-rows"), byId("add-test"), {
  onChange: (value) => keep({ tests: value }),
});
const results = createResultView({
  result: "result",
  verdict: "verdict",
  figures: "figures",
  message: "result-message",
  tests: "test-results",
  outputs: "outputs",
  share: "share-link",
  timeline: "timeline",
});
const { follow } = createLiveRun(results, connection);

function showProgram(language) {
  editor.setLanguage(language);
  editor.setText(draft.sources[language] ?? starterProgram(language));
}

function buildRequest() {
  const body = { language: languageSelect.value, source: editor.text };
  const testCases = tests.value;
  if (testCases.length) body.tests = testCases;
  else body.stdin = stdinBox.value;
  const limits = {};
  for (const name of LIMITS) {
    const raw = limitInput(name).value.trim();
    // Anything typed is sent: the API says what is wrong with it, next to this field.
    if (raw) limits[name] = Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  if (Object.keys(limits).length) body.limits = limits;
  return body;
}

async function run(body = buildRequest()) {
  if (sharedId || submitting) return;
  submitting = true;
  runButton.setAttribute("aria-busy", "true");
  clearFieldErrors();
  hideNotice();
  try {
    const accepted = await createSubmission(body);
    results.start(accepted.id, body.tests ?? []);
    follow(accepted.id);
  } catch (error) {
    if (!(error instanceof ApiError && error.isClientError)) {
      showNotice(describe(error, "The program was not submitted"), () => run(body));
    } else if (!showFieldError(error.field, error.message, { focusSource: () => editor.focus() })) {
      showNotice(`The API refused the program: ${error.message}`);
    }
  } finally {
    submitting = false;
    runButton.removeAttribute("aria-busy");
  }
}

function fillLanguages(languages) {
  languageSelect.replaceChildren(
    ...languages.map(({ id, name, version }) => new Option(version ? `${name} (${version})` : name, id)),
  );
}

function openDraft(languages) {
  const ids = languages.map(({ id }) => id);
  const fallback = ids.includes("python") ? "python" : ids[0];
  languageSelect.value = ids.includes(draft.language) ? draft.language : fallback;
  showProgram(languageSelect.value);
  stdinBox.value = draft.stdin ?? STARTER_STDIN;
  tests.value = draft.tests;
  for (const name of LIMITS) limitInput(name).value = draft.limits?.[name] ?? "";
  languageSelect.addEventListener("change", () => {
    keep({ language: languageSelect.value });
    showProgram(languageSelect.value);
  });
  stdinBox.addEventListener("input", () => keep({ stdin: stdinBox.value }));
  for (const name of LIMITS) {
    limitInput(name).addEventListener("input", () =>
      keep({ limits: { ...draft.limits, [name]: limitInput(name).value } }),
    );
  }
}

async function openShared() {
  let submission;
  try {
    submission = await getSubmission(sharedId);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) showNotice("There is no submission at this link.");
    else showNotice(describe(error, "The submission could not be loaded"), openShared);
    return;
  }
  const { language, submitted } = submission;
  byId("share-banner").hidden = false;
  runButton.hidden = true;
  if (!languageSelect.querySelector(`option[value="${CSS.escape(language)}"]`))
    languageSelect.add(new Option(language, language));
  languageSelect.value = language;
  languageSelect.disabled = true;
  editor.setLanguage(language);
  editor.setText(submitted.source);
  editor.setReadOnly(true);
  stdinBox.value = submitted.stdin;
  stdinBox.readOnly = true;
  tests.value = submitted.tests;
  tests.setReadOnly(true);
  for (const name of LIMITS)
    Object.assign(limitInput(name), { value: submission.limits[name] ?? "", readOnly: true });
  byId("edit-copy").addEventListener("click", () => {
    const copy = {
      ...loadDraft(),
      language,
      stdin: submitted.stdin,
      tests: submitted.tests ?? [],
      limits: {},
    };
    saveDraft({ ...copy, sources: { ...copy.sources, [language]: submitted.source } });
    location.assign("/");
  });
  results.start(sharedId, submitted.tests ?? []);
  if (submission.status === "finished") {
    results.result(submission);
    connection.textContent = "Finished.";
  } else {
    follow(sharedId);
  }
}

async function start() {
  let languages;
  try {
    languages = await listLanguages();
  } catch (error) {
    showNotice(describe(error, "The list of languages could not be loaded"), start);
    return;
  }
  hideNotice();
  fillLanguages(languages);
  if (sharedId) await openShared();
  else openDraft(languages);
}

runButton.addEventListener("click", () => run());
document.addEventListener("keydown", (event) => {
  // The editor handles its own Ctrl/Cmd+Enter (and marks it handled); this covers every other field.
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.defaultPrevented) {
    event.preventDefault();
    run();
  }
});
byId("boot-message").hidden = true;
byId("app").hidden = false;
start();
