// The webview page. Used by the extension (with webview URIs) and by the browser-test harness
// (with http URLs), so both load the same page.

export interface PageResources {
  scriptUri: string;
  styleUri: string;
  /** CSP source for scripts and styles (`webview.cspSource`, or the harness's origin). */
  cspSource: string;
  nonce: string;
}

export function renderHtml(r: PageResources): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${r.cspSource}; script-src 'nonce-${r.nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${r.styleUri}">
<title>Tome</title>
</head>
<body>
<div id="editor" tabindex="-1">
  <div id="selection"></div>
  <div id="lines" aria-label="file content"></div>
  <div id="match"></div>
  <canvas id="ruler" aria-hidden="true"></canvas>
  <div id="slider" aria-hidden="true"></div>
  <div id="cursor"></div>
  <div id="extra"></div>
  <div id="scroller"><div id="spacer"></div></div>
  <textarea id="input" autocomplete="off" autocorrect="off" autocapitalize="off" spellcheck="false" aria-label="editor input"></textarea>
</div>
<div id="find" hidden>
  <div class="find-row">
    <button id="find-toggle-replace" title="Toggle Replace (Ctrl+H)" aria-expanded="false">›</button>
    <input id="find-input" type="text" placeholder="Find" aria-label="Find">
    <label class="toggle" title="Match Case (Alt+C)"><input id="find-case" type="checkbox">Aa</label>
    <label class="toggle" title="Match Whole Word (Alt+W)"><input id="find-word" type="checkbox"><u>ab</u></label>
    <label class="toggle" title="Use Regular Expression (Alt+R)"><input id="find-regex" type="checkbox">.*</label>
    <span id="find-count" aria-live="polite"></span>
    <button id="find-prev" title="Previous Match (Shift+Enter, Shift+F3)">↑</button>
    <button id="find-next" title="Next Match (Enter, F3)">↓</button>
    <label class="toggle" title="Find in Selection (Alt+L)"><input id="find-selection" type="checkbox">≡</label>
    <button id="find-close" title="Close (Escape)">×</button>
  </div>
  <div class="find-row" id="replace-row" hidden>
    <span class="find-indent"></span>
    <input id="replace-input" type="text" placeholder="Replace" aria-label="Replace">
    <button id="replace-one" title="Replace (Ctrl+Shift+1)">Replace</button>
    <button id="replace-all" title="Replace All (Ctrl+Alt+Enter)">Replace All</button>
  </div>
</div>
<div id="goto" hidden><label>Go to line <input id="goto-input" type="text" inputmode="numeric"></label></div>
<div id="status"></div>
<script nonce="${r.nonce}" src="${r.scriptUri}"></script>
</body>
</html>`;
}

export function makeNonce(): string {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let s = "";
  for (let i = 0; i < 32; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}
