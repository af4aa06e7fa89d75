// The webview: renders only the visible lines of the document, fetched from the host (which
// relays to `tome serve`) as the user scrolls; cursor, selection, typing, Backspace/Delete,
// Enter, cut/copy/paste, keyboard navigation, Ctrl+G, find, follow mode. Bundled by esbuild
// into out/webview/editor.js. This is the entry point: it wires the modules (state.ts,
// render.ts, navigation.ts, editing.ts, find.ts, input.ts) and handles the host's messages.

import { installFind } from "./find";
import { setHighlighting } from "./colours";
import { clearEditMarks } from "./ruler";
import { loadState, onHostMessage, postToHost } from "./host";
import { fromHost, installInput } from "./input";
import { goToEnd, redraw, refreshCount, setFollowing, setInfo, showAround, showEnd, showLine } from "./navigation";
import { schedule } from "./queue";
import { drawStatus, fail, measure } from "./render";
import { cache, pipeline, state, type SavedState } from "./state";
import { input } from "./dom";
import { WordRules } from "../words";

installFind();
installInput();

// ---------------------------------------------------------------------------------------------
// Messages from the host

onHostMessage((m) => {
  switch (m.type) {
    case "init": {
      state.echoesShortcuts = m.echoesShortcuts;
      state.epoch = m.epoch;
      if (m.settings) {
        state.settings = m.settings;
        state.words = new WordRules(m.settings.wordSeparators);
      }
      pipeline.reset(m.info.version);
      setInfo(m.info);
      measure();
      setHighlighting(m.highlighting ?? true);
      const saved = loadState<SavedState>();
      if (saved && typeof saved.top === "number") state.cursor = saved.cursor;
      void showLine(saved?.top ?? 0).then(() => input.focus(), fail);
      break;
    }
    case "refresh":
      // After undo/redo/revert/reload: positions of the old text mean nothing any more. The
      // info was read after the change, and after every edit the host let through before it
      // (later ones it refuses: they carry the old epoch).
      state.epoch = m.epoch;
      pipeline.reset(m.info.version);
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
      setInfo({ ...m.info, version: state.info?.version ?? m.info.version });
      // The server's version moved by itself (edits in flight may or may not be in this info):
      // read the screen again once they are answered, taking the server's version.
      schedule(async () => {
        await pipeline.settled();
        pipeline.broken = true;
        cache.clear();
        await (state.following ? goToEnd() : m.follow && atEnd ? showEnd() : redraw());
      });
      break;
    }
    case "index":
      // Indexing progress comes from the server's `$/progress` (no polling): the status line,
      // then, once done, the scrollbar by line and the exact line count.
      if (!state.info) break;
      if (m.percent !== null) {
        state.info = { ...state.info, indexPercent: m.percent };
        drawStatus();
      } else if (m.info) {
        const exact = m.info.version === pipeline.version && pipeline.inFlight === 0;
        setInfo({ ...state.info, indexComplete: true, indexPercent: 100, lineCount: exact ? m.info.lineCount : state.info.lineCount });
        drawStatus();
        // Edits in flight: the count the info gives is not the one on screen; read it then.
        if (!exact || !state.info.lineCount.exact) schedule(refreshCount);
      }
      break;
    case "saved":
      clearEditMarks();
      break;
    case "settings":
      setHighlighting(m.highlighting);
      break;
    case "follow":
      setFollowing(m.on === "toggle" ? !state.following : m.on);
      break;
    case "gotoLine":
    case "find":
      fromHost(m.type);
      break;
  }
});

postToHost({ type: "ready" });
