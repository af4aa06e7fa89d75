// Where VS Code's undo stack of one document stands, mirrored on the host, so that Revert can
// be done by undoing (or redoing) on the server back to the saved state, and entries made
// before a reload from disk become no-ops. Pure logic, no `vscode`.
//
// VS Code keeps, per custom document, a list of edits, an index of the current one and a save
// point (workbench MainThreadCustomEditorModel): a new edit drops the ones after the index,
// undo/redo move the index, save sets the save point, revert sets the index to the save point
// and drops the edits after it. Each of our edits is one server undo step (session.ts makes
// sure), so positions here count server steps too.

export class EditHistory {
  /** Edits applied, counted from the start of this generation. */
  private position = 0;
  /** The position of the saved state; null when no sequence of undo/redo leads back to it. */
  private saved: number | null = 0;
  /**
   * Bumped when the server's history is dropped (`tome/reload`): VS Code's entries of older
   * generations then do nothing, as the server has nothing of theirs left to undo.
   */
  private gen = 0;

  constructor(openedDirty = false) {
    // A document recovered from a journal is dirty with no VS Code entries: only a reload
    // brings it back to the file.
    if (openedDirty) this.saved = null;
  }

  get generation(): number {
    return this.gen;
  }

  /** Whether VS Code shows the document as modified, as far as this mirror can tell. */
  get dirty(): boolean {
    return this.saved !== this.position;
  }

  /** A new edit: VS Code drops the entries after the current one, the saved state among them. */
  pushed(): void {
    if (this.saved !== null && this.saved > this.position) this.saved = null;
    this.position++;
  }

  undone(): void {
    this.position--;
  }

  redone(): void {
    this.position++;
  }

  savedNow(): void {
    this.saved = this.position;
  }

  /** Undo steps (> 0) or redo steps (< 0) back to the saved state; null if it cannot be reached. */
  stepsToSaved(): number | null {
    return this.saved === null ? null : this.position - this.saved;
  }

  /** After Revert reached the saved state by undo/redo. */
  reverted(): void {
    this.position = this.saved ?? this.position;
  }

  /** After `tome/reload`: the server is clean with no history; VS Code's entries become no-ops. */
  reloaded(): void {
    this.gen++;
    this.position = 0;
    this.saved = 0;
  }
}
