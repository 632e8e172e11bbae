// The test-case editor: rows of input and expected output, added and removed by button (or keyboard).
// Each field carries `data-field="tests.<i>.<name>"`, the name the API uses when it refuses one.

function textArea(index, name, label, value) {
  const id = `test-${index}-${name}`;
  const field = `tests.${index}.${name}`;
  const cell = document.createElement("div");
  cell.className = "cell";
  const caption = document.createElement("label");
  caption.htmlFor = id;
  caption.textContent = label;
  // Every row has an "Input": a screen reader also hears which test's.
  const which = document.createElement("span");
  which.className = "visually-hidden";
  which.textContent = ` of test ${index + 1}`;
  caption.append(which);
  const area = document.createElement("textarea");
  Object.assign(area, { id, rows: 2, spellcheck: false, value });
  area.dataset.field = field;
  area.dataset.name = name;
  area.setAttribute("aria-describedby", `error-${field}`);
  const error = document.createElement("p");
  Object.assign(error, { className: "field-error", id: `error-${field}`, hidden: true });
  cell.append(caption, area, error);
  return cell;
}

/** Manage the rows in `list`; `addButton` adds one; `onChange(tests)` after every edit. */
export function createTestsEditor(list, addButton, { onChange }) {
  let tests = [];
  let readOnly = false;

  function render() {
    list.replaceChildren();
    tests.forEach((test, index) => {
      const row = document.createElement("li");
      row.className = "test-row";
      const heading = document.createElement("h3");
      heading.textContent = `Test ${index + 1}`;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", `Remove test ${index + 1}`);
      remove.hidden = readOnly;
      remove.addEventListener("click", () => removeTest(index));
      row.append(
        heading,
        textArea(index, "stdin", "Input", test.stdin),
        textArea(index, "expected_output", "Expected output", test.expected_output),
        remove,
      );
      list.append(row);
    });
    for (const area of list.querySelectorAll("textarea")) {
      area.readOnly = readOnly;
      area.addEventListener("input", () => {
        const index = Number(area.dataset.field.split(".")[1]);
        tests[index] = { ...tests[index], [area.dataset.name]: area.value };
        onChange(tests);
      });
    }
  }

  function removeTest(index) {
    tests = tests.filter((_, i) => i !== index);
    onChange(tests);
    render();
    // Keep the keyboard user where they were: the row that took this one's place, or "Add test".
    const next = list.querySelector(`[data-field="tests.${Math.min(index, tests.length - 1)}.stdin"]`);
    (next ?? addButton).focus();
  }

  addButton.addEventListener("click", () => {
    tests = [...tests, { stdin: "", expected_output: "" }];
    onChange(tests);
    render();
    list.querySelector(`[data-field="tests.${tests.length - 1}.stdin"]`).focus();
  });

  return {
    get value() {
      return tests.map((test) => ({ ...test }));
    },
    set value(value) {
      tests = (value ?? []).map((test) => ({
        stdin: test.stdin ?? "",
        expected_output: test.expected_output ?? "",
      }));
      render();
    },
    setReadOnly(on) {
      readOnly = on;
      addButton.hidden = on;
      render();
    },
  };
}
