// The code editor: CodeMirror 6 with the basic setup, a swappable language and a read-only switch.
import { indentWithTab } from "@codemirror/commands";
import { Compartment, EditorState, Prec, Transaction } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { basicSetup } from "codemirror";

import { highlighting } from "./languages.js";

/**
 * Mount an editor in `parent`.
 * `onChange(text)` runs after every edit; `onRun()` on Ctrl/Cmd+Enter (which would otherwise insert a
 * blank line). Tab indents: CodeMirror's Esc-then-Tab leaves the editor, as the page's hint says.
 */
export function createEditor(parent, { onChange, onRun, describedBy }) {
  const language = new Compartment();
  const readOnly = new Compartment();
  let replacing = false; // setText's own change is not the user's edit
  let languageRequests = 0;
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: "",
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        Prec.highest(keymap.of([{ key: "Mod-Enter", run: () => (onRun(), true) }])),
        language.of([]),
        readOnly.of([]),
        EditorView.contentAttributes.of({ "aria-label": "Source code", "aria-describedby": describedBy }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && !replacing) onChange(update.state.doc.toString());
        }),
      ],
    }),
  });

  return {
    view,
    get text() {
      return view.state.doc.toString();
    },
    /** Replace the whole program (not an edit the user made: no onChange). */
    setText(text) {
      replacing = true;
      try {
        view.dispatch({
          changes: { from: 0, to: view.state.doc.length, insert: text },
          annotations: Transaction.addToHistory.of(false),
        });
      } finally {
        replacing = false;
      }
    },
    /** Highlight `id` once its grammar has loaded (plain text if it cannot be loaded). */
    async setLanguage(id) {
      const request = ++languageRequests; // a later switch wins over a grammar still loading
      const support = await highlighting(id).catch(() => []);
      if (request === languageRequests) view.dispatch({ effects: language.reconfigure(support) });
    },
    setReadOnly(on) {
      view.dispatch({
        effects: readOnly.reconfigure(on ? EditorState.readOnly.of(true) : []),
      });
    },
    focus() {
      view.focus();
    },
  };
}
