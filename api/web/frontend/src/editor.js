// The code editor: CodeMirror 6 with the basic setup, a swappable language and a read-only switch.
import { autocompletion } from "@codemirror/autocomplete";
import { indentWithTab } from "@codemirror/commands";
import { Compartment, EditorState, Prec } from "@codemirror/state";
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
  let support = []; // the current language's highlighting
  let locked = false;
  let languageRequests = 0;
  const extensions = () => [
    basicSetup,
    // Completions only on Ctrl+Space: one that pops up (or is pending) while typing swallows the Esc
    // that keyboard users press before Tab to leave the editor.
    autocompletion({ activateOnTyping: false }),
    keymap.of([indentWithTab]),
    Prec.highest(keymap.of([{ key: "Mod-Enter", run: () => (onRun(), true) }])),
    language.of(support),
    readOnly.of(EditorState.readOnly.of(locked)),
    EditorView.contentAttributes.of({ "aria-label": "Source code", "aria-describedby": describedBy }),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) onChange(update.state.doc.toString());
    }),
  ];
  const view = new EditorView({ parent, state: EditorState.create({ extensions: extensions() }) });

  return {
    get text() {
      return view.state.doc.toString();
    },
    /** Replace the whole program: a fresh state, so Undo cannot reach into the previous program (and
     * no onChange: this is not the user's edit). */
    setText(text) {
      view.setState(EditorState.create({ doc: text, extensions: extensions() }));
    },
    /** Highlight `id` once its grammar has loaded (plain text if it cannot be loaded). */
    async setLanguage(id) {
      const request = ++languageRequests; // a later switch wins over a grammar still loading
      const loaded = await highlighting(id).catch(() => []);
      if (request !== languageRequests) return;
      support = loaded;
      view.dispatch({ effects: language.reconfigure(support) });
    },
    setReadOnly(on) {
      locked = on;
      view.dispatch({ effects: readOnly.reconfigure(EditorState.readOnly.of(locked)) });
    },
    focus() {
      view.focus();
    },
  };
}
