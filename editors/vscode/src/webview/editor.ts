// The webview: renders only the visible lines of the document, fetched from the host (which
// relays to `tome serve`) as the user scrolls; cursor, selection, typing, Backspace/Delete,
// Enter, cut/copy/paste, keyboard navigation, Ctrl+G, find, follow mode. Bundled by esbuild
// into out/webview/editor.js. This is the entry point: it wires the modules (state.ts,
// render.ts, navigation.ts, editing.ts, find.ts, input.ts) and handles the host's messages.

import { installFind } from "./find";
import { loadState, onHostMessage, postToHost, request } from "./host";
import { fromHost, installInput } from "./input";
import { goToEnd, redraw, setFollowing, setInfo, showAround, showEnd, showLine } from "./navigation";
import { schedule } from "./queue";
import { drawStatus, fail, measure } from "./render";
import { cache, state, type SavedState } from "./state";
import { input } from "./dom";

installFind();
installInput();

// ---------------------------------------------------------------------------------------------
// Messages from the host

onHostMessage((m) => {
  switch (m.type) {
    case "init": {
      state.echoesShortcuts = m.echoesShortcuts;
      setInfo(m.info);
      measure();
      const saved = loadState<SavedState>();
      if (saved && typeof saved.top === "number") state.cursor = saved.cursor;
      void showLine(saved?.top ?? 0).then(() => input.focus(), fail);
      break;
    }
    case "refresh":
      // After undo/redo/revert/reload: positions of the old text mean nothing any more.
      setInfo(m.info);
      cache.clear();
      state.anchor = null;
      if (typeof m.reveal === "number") void showAround({ around: m.reveal }, 3).catch(fail);
      else void redraw().catch(fail);
      break;
    case "diskChange": {
      // Follow mode, or a view showing the end of a growing file (tome.follow): keep the end.
      const last = state.frame[state.frame.length - 1];
      const atEnd = !!last && last.breakLength === 0;
      setInfo(m.info);
      cache.clear();
      if (state.following || (m.follow && atEnd)) schedule(state.following ? goToEnd : showEnd);
      else schedule(redraw);
      break;
    }
    case "follow":
      setFollowing(m.on === "toggle" ? !state.following : m.on);
      break;
    case "gotoLine":
    case "find":
      fromHost(m.type);
      break;
  }
});

// Index progress: poll `tome/info` while indexing, so the scrollbar switches to lines.
setInterval(() => {
  if (!state.info || state.info.indexComplete) return;
  request("info", {})
    .then((i) => {
      setInfo(i);
      drawStatus();
    })
    .catch(() => undefined);
}, 500);

postToHost({ type: "ready" });
