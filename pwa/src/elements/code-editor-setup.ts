// CodeMirror 6, loaded lazily by gridx-code-editor (this module is its own chunk): the first
// view does not pay for the editor. Highlighting for Python, JavaScript and Bash.
import { Compartment, EditorState } from '@codemirror/state'
import type { Extension } from '@codemirror/state'
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from '@codemirror/view'
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands'
import {
  bracketMatching,
  HighlightStyle,
  indentOnInput,
  StreamLanguage,
  syntaxHighlighting,
} from '@codemirror/language'
import { tags } from '@lezer/highlight'
import { python } from '@codemirror/lang-python'
import { javascript } from '@codemirror/lang-javascript'
import { shell } from '@codemirror/legacy-modes/mode/shell'
import type { Runtime } from '../../../protocol/index.ts'

/** Colours name custom properties (index.html), which follow the light or dark scheme. */
const highlightStyle = HighlightStyle.define([
  {
    tag: [tags.keyword, tags.controlKeyword, tags.operatorKeyword],
    color: 'var(--syntax-keyword)',
  },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--syntax-string)' },
  { tag: [tags.number, tags.bool, tags.null], color: 'var(--syntax-number)' },
  { tag: [tags.comment, tags.lineComment, tags.blockComment], color: 'var(--syntax-comment)' },
  {
    tag: [tags.function(tags.variableName), tags.definition(tags.variableName)],
    color: 'var(--syntax-function)',
  },
])

const theme = EditorView.theme({
  '&': { backgroundColor: 'var(--surface)', color: 'var(--fg)', fontSize: '0.9rem' },
  '.cm-content': {
    fontFamily: 'ui-monospace, Menlo, Consolas, monospace',
    caretColor: 'var(--fg)',
  },
  '.cm-gutters': { backgroundColor: 'var(--code-bg)', color: 'var(--muted)', border: 'none' },
  '.cm-activeLine': { backgroundColor: 'var(--active-line)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--active-line)' },
  '&.cm-focused': { outline: '3px solid var(--focus)' },
  // The height its host gives (a phone gives less); it grows with the code up to the maximum.
  '.cm-scroller': { minHeight: 'var(--code-editor-min-height, 14rem)', maxHeight: '28rem' },
})

function language(runtime: Runtime): Extension {
  switch (runtime) {
    case 'python':
    case 'python-torch':
      return python()
    case 'node':
      return javascript()
    case 'bash':
      return StreamLanguage.define(shell)
    case 'noop':
      // Its code is never run: plain text.
      return []
  }
}

export interface CodeEditorHandle {
  setValue(value: string): void
  setRuntime(runtime: Runtime): void
  focus(): void
  destroy(): void
}

/** Mounts an editor in `parent` (inside `root`, a shadow root). `onChange` hears every edit.
 * Tab is left to the browser so keyboard users can leave the editor. */
export function createCodeEditor(init: {
  readonly parent: HTMLElement
  readonly root: ShadowRoot
  readonly value: string
  readonly runtime: Runtime
  readonly label: string
  readonly onChange: (value: string) => void
}): CodeEditorHandle {
  const languageSlot = new Compartment()
  const view = new EditorView({
    parent: init.parent,
    root: init.root,
    state: EditorState.create({
      doc: init.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        highlightActiveLine(),
        syntaxHighlighting(highlightStyle),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        languageSlot.of(language(init.runtime)),
        theme,
        // A long line wraps instead of scrolling sideways: a sideways scroll hides code on a
        // phone, and axe finds no keyboard stop on CodeMirror's scroller (its focusable part is
        // the content inside), so a scrolling editor fails the accessibility audit.
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': init.label }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) init.onChange(update.state.doc.toString())
        }),
      ],
    }),
  })
  return {
    setValue(value) {
      if (value === view.state.doc.toString()) return
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: value } })
    },
    setRuntime(runtime) {
      view.dispatch({ effects: languageSlot.reconfigure(language(runtime)) })
    },
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  }
}
