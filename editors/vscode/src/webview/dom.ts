// The page's elements (src/webviewHtml.ts), looked up once.

const $ = (id: string): HTMLElement => document.getElementById(id)!;

export const editorEl = $("editor");
export const linesEl = $("lines");
export const selectionEl = $("selection");
export const cursorEl = $("cursor");
/** Secondary cursors and their selections (multi.ts), drawn over the rows like #selection. */
export const extraEl = $("extra");
export const matchEl = $("match");
export const scroller = $("scroller");
export const spacer = $("spacer");
/** The hidden textarea that has the focus: typing, paste, copy and cut come through it. */
export const input = $("input") as HTMLTextAreaElement;
export const gotoEl = $("goto");
export const gotoInput = $("goto-input") as HTMLInputElement;
export const statusEl = $("status");

export const findEl = $("find");
export const findInput = $("find-input") as HTMLInputElement;
export const findCase = $("find-case") as HTMLInputElement;
export const findRegex = $("find-regex") as HTMLInputElement;
export const findWord = $("find-word") as HTMLInputElement;
export const findSelection = $("find-selection") as HTMLInputElement;
export const replaceOneButton = $("replace-one");
export const rulerEl = $("ruler") as HTMLCanvasElement;
export const sliderEl = $("slider");
export const findCount = $("find-count");
export const replaceInput = $("replace-input") as HTMLInputElement;
export const findNext = $("find-next");
export const findPrev = $("find-prev");
export const replaceAllButton = $("replace-all");
export const findClose = $("find-close");
export const replaceRow = $("replace-row");
export const findToggleReplace = $("find-toggle-replace");
