// The Result pane: the verdict (colour and text), each test's verdict as it finishes, the outputs, and a
// log of the live events. Every value from the server is set as text, never as HTML.

const VERDICTS = {
  queued: "Queued",
  running: "Running",
  accepted: "Accepted",
  wrong_answer: "Wrong answer",
  presentation_error: "Presentation error",
  time_limit_exceeded: "Time limit exceeded",
  memory_limit_exceeded: "Memory limit exceeded",
  output_limit_exceeded: "Output limit exceeded",
  runtime_error: "Runtime error",
  compilation_error: "Compilation error",
  internal_error: "Internal error (ours, not your program's)",
};

const verdictText = (verdict) => VERDICTS[verdict] ?? verdict;

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.textContent = text;
  return node;
}

function badge(verdict, text = verdictText(verdict)) {
  return element("span", { class: "verdict", "data-verdict": verdict }, text);
}

function figures({ time_ms: time, wall_ms: wall, memory_kb: memory, exit_code: exit, signal }) {
  const parts = [];
  if (time != null) parts.push(`${time} ms CPU`);
  if (wall != null) parts.push(`${wall} ms wall`);
  if (memory != null) parts.push(`${(memory / 1024).toFixed(1)} MiB`);
  if (exit != null) parts.push(`exit code ${exit}`);
  if (signal) parts.push(`killed by ${signal}`);
  return parts.join(" · ");
}

const measures = ({ time_ms, wall_ms, memory_kb }) => ({ time_ms, wall_ms, memory_kb });

/** A scored result's total and, with test groups, each group's points (`score` may be absent). */
function showScore(box, data) {
  if (!box) return;
  box.hidden = data.score == null;
  if (box.hidden) return;
  const total = element("p", { class: "score-total" }, `Score: ${data.score} / ${data.max_score}`);
  const groups = element("ul", { class: "score-groups", "aria-label": "Test groups" });
  for (const group of data.groups ?? []) {
    const item = element("li", { "data-passed": String(group.passed) });
    item.append(
      element("span", { class: "name" }, `Group ${group.group}`),
      element("span", {}, `${group.score} / ${group.points}`),
      element("span", { class: "figures" }, group.passed ? "all tests passed" : "not all tests passed"),
    );
    groups.append(item);
  }
  box.replaceChildren(total, ...(groups.childElementCount ? [groups] : []));
}

function output(title, text, truncated) {
  const box = document.createDocumentFragment();
  box.append(element("h3", {}, truncated ? `${title} (cut off at the output limit)` : title));
  const empty = !text;
  box.append(
    element("pre", { class: empty ? "output empty" : "output", tabindex: "0" }, empty ? "(empty)" : text),
  );
  return box;
}

/** The Result pane's behaviour; `ids` are the page's elements (see pages/editor.html; `score`, where a page has
 * one, shows a stored problem's score and groups). */
export function createResultView(ids) {
  const $ = (id) => document.getElementById(ids[id]);
  const pane = $("result");
  const verdict = $("verdict");
  const testList = $("tests");
  const rows = [];
  let expected = []; // each test's expected output, shown beside what the program printed

  function setVerdict(name, text) {
    verdict.dataset.verdict = name;
    verdict.textContent = text ?? verdictText(name);
  }

  function log(seq, text) {
    $("timeline").append(element("li", { "data-seq": String(seq) }, text));
  }

  function setTest(index, report, live) {
    const row = rows[index];
    if (!row) return;
    row.dataset.verdict = report.verdict;
    row.dataset.live = String(live);
    // A stored problem's hidden test: its verdict, time and memory only (the worker emptied its outputs).
    row.replaceChildren(
      element("span", { class: "name" }, report.hidden ? `Test ${index + 1} (hidden)` : `Test ${index + 1}`),
      badge(report.verdict),
      element("span", { class: "figures" }, figures(report.hidden ? measures(report) : report)),
    );
    if (report.stdout !== undefined && !report.hidden) {
      const details = element("details");
      details.append(element("summary", {}, `Output of test ${index + 1}`));
      if (expected[index] !== undefined) details.append(output("Expected output", expected[index], false));
      details.append(output("stdout", report.stdout, report.stdout_truncated));
      details.append(output("stderr", report.stderr, report.stderr_truncated));
      row.append(details);
    }
  }

  return {
    /** A new run of `id` with `tests` (`[{stdin, expected_output}]`; `{}` for a test whose data the
     * page does not have): everything pending. */
    start(id, tests) {
      expected = tests.map((test) => test.expected_output);
      pane.hidden = false;
      if (ids.score) $("score").hidden = true;
      setVerdict("queued");
      $("figures").textContent = "";
      $("message").hidden = true;
      $("outputs").replaceChildren();
      $("timeline").replaceChildren();
      $("share").href = `/s/${encodeURIComponent(id)}`;
      rows.length = 0;
      testList.replaceChildren();
      for (let index = 0; index < tests.length; index += 1) {
        const row = element("li", { class: "test-result", "data-verdict": "pending" });
        row.append(element("span", { class: "name" }, `Test ${index + 1}`), badge("pending", "Waiting"));
        rows.push(row);
        testList.append(row);
      }
    },

    /** A `status` event (queued, or running on a worker). */
    status(data, seq) {
      const text = data.status === "running" && data.worker ? `Running on ${data.worker}` : undefined;
      setVerdict(data.status, text);
      log(seq, `${seq}: ${text ?? verdictText(data.status)}`);
    },

    /** A `test` event: one test finished. */
    test(data, seq) {
      setTest(data.index, data, true);
      log(seq, `${seq}: test ${data.index + 1} ${verdictText(data.verdict)}`);
    },

    /** The final result (a `result` event, or GET's JSON for a finished submission). */
    result(data, seq) {
      setVerdict(data.verdict);
      $("figures").textContent = figures(data);
      if (ids.score) showScore($("score"), data);
      if (data.message) {
        $("message").textContent = data.message;
        $("message").hidden = false;
      }
      // The result carries every test: fills in any whose live event this page did not see.
      for (const report of data.tests ?? [])
        setTest(report.index, report, rows[report.index]?.dataset.live === "true");
      // The first failing test's outputs are what the user wants to see next.
      rows
        .find((row) => row.dataset.verdict !== "accepted")
        ?.querySelector("details")
        ?.setAttribute("open", "");
      const outputs = [];
      const compiler = data.compile && `${data.compile.stdout}${data.compile.stderr}`;
      if (compiler) outputs.push(output("Compiler output", compiler, false));
      // A run without tests has its outputs at the top level (null when it never ran: compile error).
      if (data.tests == null && data.stdout != null) {
        outputs.push(output("stdout", data.stdout, data.stdout_truncated));
        outputs.push(output("stderr", data.stderr, data.stderr_truncated));
      }
      $("outputs").replaceChildren(...outputs);
      if (seq !== undefined) log(seq, `${seq}: result ${verdictText(data.verdict)}`);
    },
  };
}
