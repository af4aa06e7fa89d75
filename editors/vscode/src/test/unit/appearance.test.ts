import { test } from "node:test";
import assert from "node:assert/strict";
import { cursorBox, DEFAULT_APPEARANCE, lineHeightPx, readAppearance, whitespaceRuns, type RenderWhitespace } from "../../appearance";

test("editor.lineHeight: 0 derives it from the font size as VS Code (1.35, macOS 1.5), below 8 is 8", () => {
  assert.equal(lineHeightPx({ fontSize: 14, lineHeight: 0 }), 19);
  assert.equal(lineHeightPx({ fontSize: 14, lineHeight: 0 }, true), 21);
  assert.equal(lineHeightPx({ fontSize: 20, lineHeight: 0 }), 27);
  assert.equal(lineHeightPx({ fontSize: 14, lineHeight: 3 }), 8);
  assert.equal(lineHeightPx({ fontSize: 14, lineHeight: 24 }), 24);
});

test("settings are validated: garbage falls back to the defaults, numbers are clamped", () => {
  const bad: Record<string, unknown> = {
    fontFamily: 42,
    fontSize: "huge",
    fontWeight: "url(x)",
    lineHeight: -3,
    letterSpacing: 99,
    renderWhitespace: "some",
    cursorStyle: "beam",
    cursorBlinking: 7,
    cursorWidth: NaN,
  };
  const a = readAppearance((k) => bad[k]);
  assert.deepEqual(a, { ...DEFAULT_APPEARANCE, lineHeight: 0, letterSpacing: 20 });
  const good: Record<string, unknown> = {
    fontFamily: "Fira Code",
    fontSize: 20,
    fontWeight: "600",
    lineHeight: 30,
    letterSpacing: 0.5,
    renderWhitespace: "all",
    cursorStyle: "block",
    cursorBlinking: "phase",
    cursorWidth: 3,
  };
  assert.deepEqual(
    readAppearance((k) => good[k]),
    { ...good, fontWeight: "600" },
  );
  assert.equal(readAppearance(() => undefined).cursorStyle, "line");
  assert.equal(readAppearance((k) => (k === "fontWeight" ? "bold" : undefined)).fontWeight, "bold");
});

test("cursor shapes as viewCursor.ts: line width capped at a character, centred; thin; block; underline", () => {
  assert.deepEqual(cursorBox("line", 0, 8, 19, false), { dx: -1, width: 2, dy: 0, height: 19, paint: "fill", showsChar: false });
  assert.deepEqual(cursorBox("line", 0, 8, 19, true), { dx: 0, width: 2, dy: 0, height: 19, paint: "fill", showsChar: false });
  assert.equal(cursorBox("line", 5, 8, 19, false).width, 5);
  assert.equal(cursorBox("line", 5, 8, 19, false).showsChar, true);
  assert.equal(cursorBox("line", 30, 8, 19, false).width, 8);
  assert.deepEqual(cursorBox("line-thin", 5, 8, 19, false), { dx: 0, width: 1, dy: 0, height: 19, paint: "fill", showsChar: false });
  assert.deepEqual(cursorBox("block", 0, 8.4, 19, false), { dx: 0, width: 8.4, dy: 0, height: 19, paint: "fill", showsChar: true });
  assert.equal(cursorBox("block-outline", 0, 8, 19, false).paint, "outline");
  assert.deepEqual(cursorBox("underline", 0, 8, 19, false), { dx: 0, width: 8, dy: 17, height: 2, paint: "fill", showsChar: false });
  assert.deepEqual(cursorBox("underline-thin", 0, 8, 19, false), { dx: 0, width: 8, dy: 18, height: 1, paint: "fill", showsChar: false });
});

/** The marks as a string: `.` a space drawn, `>` a tab drawn, `_` whitespace not drawn, else the character. */
function marks(text: string, mode: RenderWhitespace, ctx = { atLineStart: true, atLineEnd: true, selections: [] as Array<[number, number]> }): string {
  const out = [...text].map((c) => (c === " " || c === "\t" ? "_" : c));
  for (const r of whitespaceRuns(text, mode, ctx)) for (let i = r.start; i < r.end; i++) out[i] = r.tab ? ">" : ".";
  return out.join("");
}

test("renderWhitespace as viewLineRenderer: none, all, boundary, trailing, selection", () => {
  const line = "  a b  c\td ";
  assert.equal(marks(line, "none"), "__a_b__c_d_");
  assert.equal(marks(line, "all"), "..a.b..c>d.");
  // boundary: single spaces between words are not drawn; leading, trailing, runs of 2+, tabs are
  assert.equal(marks(line, "boundary"), "..a_b..c>d.");
  assert.equal(marks("a \tb", "boundary"), "a.>b");
  assert.equal(marks(line, "trailing"), "__a_b__c_d.");
  assert.equal(marks("   ", "trailing"), "...");
  assert.equal(marks(line, "selection", { atLineStart: true, atLineEnd: true, selections: [[3, 7]] }), "__a.b..c_d_");
  assert.equal(marks("", "all"), "");
});

test("renderWhitespace on a window of a long line: its edges are not the line's ends", () => {
  const ctx = { atLineStart: false, atLineEnd: false, selections: [] };
  assert.equal(marks(" x y ", "boundary", ctx), "_x_y_");
  assert.equal(marks(" x y ", "trailing", ctx), "_x_y_");
  assert.equal(marks(" x y ", "trailing", { ...ctx, atLineEnd: true }), "_x_y.");
  assert.equal(marks(" x y ", "boundary", { ...ctx, atLineStart: true }), ".x_y_");
});

test("spaces are grouped in runs, each tab is a run of its own", () => {
  assert.deepEqual(whitespaceRuns("a   \t\tb", "all", { atLineStart: true, atLineEnd: true }), [
    { start: 1, end: 4, tab: false },
    { start: 4, end: 5, tab: true },
    { start: 5, end: 6, tab: true },
  ]);
});

test("a changed editor.* setting reaches every webview of the document, read again (DocSession)", async () => {
  const { DocSession } = await import("../../session");
  let size = 14;
  const server = { request: async () => ({}) } as unknown as ConstructorParameters<typeof DocSession>[0];
  const s = new DocSession(server, { doc: 1, version: 0 } as ConstructorParameters<typeof DocSession>[1], {
    settings: () => ({ wordSeparators: "", tabSize: 4, insertSpaces: true, appearance: { ...DEFAULT_APPEARANCE, fontSize: size } }),
  });
  const got: unknown[] = [];
  s.attach((m) => got.push(m));
  s.attach((m) => got.push(m));
  size = 20;
  s.editorSettingsChanged();
  assert.equal(got.length, 2);
  for (const m of got)
    assert.deepEqual(m, {
      type: "editorSettings",
      settings: { wordSeparators: "", tabSize: 4, insertSpaces: true, appearance: { ...DEFAULT_APPEARANCE, fontSize: 20 } },
    });
});
