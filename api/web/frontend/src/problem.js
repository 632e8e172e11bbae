// `/problems/<slug>`: a stored problem's statement (Markdown, rendered safely) and samples, and the editor
// to submit a solution to it: `{"problem", "language", "source"}`, judged live as on the editor page. The
// program per language is kept in localStorage, per problem; a language with a stub starts from its
// template. See ../../pages/problem.html for the elements used here.
import { ApiError, createSubmission, getProblem, listLanguages } from "./api.js";
import { createEditor } from "./editor.js";
import { clearFieldErrors, showFieldError } from "./field-errors.js";
import { createLiveRun } from "./live-run.js";
import { renderMarkdown } from "./markdown.js";
import { describe, hideNotice, showNotice } from "./notice.js";
import { createResultView } from "./result.js";

const byId = (id) => document.getElementById(id);
const languageSelect = byId("language");
const submitButton = byId("submit");
const slug = decodeURIComponent(location.pathname.match(/^\/problems\/([^/]+)\/?$/)?.[1] ?? "");
const draftKey = `executioner.problem.${slug}.v1`;
let problem = null;
let submitting = false;

function loadDraft() {
  try {
    return { sources: {}, ...JSON.parse(localStorage.getItem(draftKey) ?? "{}") };
  } catch {
    return { sources: {} };
  }
}
const draft = loadDraft();

function keep(changes) {
  Object.assign(draft, changes);
  try {
    localStorage.setItem(draftKey, JSON.stringify(draft));
  } catch {
    // A private window or a full quota: the page works the same without a saved draft.
  }
}

const editor = createEditor(byId("editor"), {
  onChange: (text) => keep({ sources: { ...draft.sources, [languageSelect.value]: text } }),
  onRun: () => submit(),
  describedBy: "editor-hint error-source",
});
const results = createResultView({
  result: "result",
  verdict: "verdict",
  figures: "figures",
  score: "score",
  message: "result-message",
  tests: "test-results",
  outputs: "outputs",
  share: "share-link",
  timeline: "timeline",
});
const { follow } = createLiveRun(results, byId("connection"));

function showProgram(language) {
  editor.setLanguage(language);
  editor.setText(draft.sources[language] ?? problem.stubs[language]?.template ?? "");
}

function limitsText({ time_ms: time, memory_mb: memory }) {
  const parts = [];
  if (time != null) parts.push(`CPU time ${time} ms per test`);
  if (memory != null) parts.push(`memory ${memory} MiB`);
  const tests = `${problem.tests} test${problem.tests === 1 ? "" : "s"}`;
  const score = problem.max_score ? `, ${problem.max_score} points` : "";
  return `${[...parts, tests].join(" · ")}${score}`;
}

function sampleItem(sample, number) {
  const item = document.createElement("li");
  item.className = "sample";
  const heading = document.createElement("h4");
  heading.textContent = `Sample ${number}`;
  item.append(heading);
  for (const [name, text] of [
    ["Input", sample.input],
    ["Expected output", sample.expected_output],
  ]) {
    const label = document.createElement("p");
    label.className = "sample-label";
    label.textContent = name;
    const pre = document.createElement("pre");
    Object.assign(pre, { className: "output", tabIndex: 0, textContent: text });
    pre.setAttribute("aria-label", `${name} of sample ${number}`);
    item.append(label, pre);
  }
  return item;
}

function showProblem() {
  document.title = `${problem.title} · Executioner`;
  byId("problem-title").textContent = problem.title;
  byId("problem-limits").textContent = limitsText(problem.limits);
  renderMarkdown(problem.statement, byId("statement"), 2);
  byId("sample-list").replaceChildren(...problem.samples.map((sample, i) => sampleItem(sample, i + 1)));
  byId("samples").hidden = problem.samples.length === 0;
}

/** The languages to offer: the stubs' when the problem has stubs (only those are accepted), else all. */
function fillLanguages(languages) {
  const stubbed = Object.keys(problem.stubs);
  const known = new Set(languages.map(({ id }) => id));
  const offered = stubbed.length
    ? [
        ...languages.filter(({ id }) => stubbed.includes(id)),
        ...stubbed.filter((id) => !known.has(id)).map((id) => ({ id, name: id })),
      ]
    : languages;
  languageSelect.replaceChildren(
    ...offered.map(({ id, name, version }) => new Option(version ? `${name} (${version})` : name, id)),
  );
  const ids = offered.map(({ id }) => id);
  const fallback = ids.includes("python") ? "python" : ids[0];
  languageSelect.value = ids.includes(draft.language) ? draft.language : fallback;
  showProgram(languageSelect.value);
}

/** What the Result pane shows for each test before it runs: the samples' expected output, else nothing. */
function pendingTests() {
  const tests = Array.from({ length: problem.tests }, () => ({}));
  for (const sample of problem.samples) tests[sample.index] = { expected_output: sample.expected_output };
  return tests;
}

async function submit() {
  if (!problem || submitting) return;
  const body = { problem: slug, language: languageSelect.value, source: editor.text };
  submitting = true;
  submitButton.setAttribute("aria-busy", "true");
  clearFieldErrors();
  hideNotice();
  try {
    const accepted = await createSubmission(body);
    results.start(accepted.id, pendingTests());
    follow(accepted.id);
  } catch (error) {
    if (!(error instanceof ApiError && error.isClientError)) {
      showNotice(describe(error, "The solution was not submitted"), () => submit());
    } else if (!showFieldError(error.field, error.message, { focusSource: () => editor.focus() })) {
      showNotice(`The API refused the solution: ${error.message}`);
    }
  } finally {
    submitting = false;
    submitButton.removeAttribute("aria-busy");
  }
}

async function start() {
  let languages;
  try {
    [problem, languages] = await Promise.all([getProblem(slug), listLanguages()]);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) showNotice(`There is no problem “${slug}”.`);
    else showNotice(describe(error, "The problem could not be loaded"), start);
    return;
  }
  hideNotice();
  byId("app").hidden = false;
  showProblem();
  fillLanguages(languages);
}

languageSelect.addEventListener("change", () => {
  keep({ language: languageSelect.value });
  showProgram(languageSelect.value);
});
submitButton.addEventListener("click", () => submit());
document.addEventListener("keydown", (event) => {
  // The editor handles its own Ctrl/Cmd+Enter (and marks it handled); this covers every other field.
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.defaultPrevented) {
    event.preventDefault();
    submit();
  }
});
byId("boot-message").hidden = true;
start();
