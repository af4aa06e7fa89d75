// The webview: renders only the visible lines of the document, fetched from the host (which
// relays to `tome serve`) as the user scrolls; cursor, selection, typing, Backspace/Delete,
// Enter, cut/copy/paste, keyboard navigation, Ctrl+G, find, follow mode. Bundled by esbuild
// into out/webview/editor.js. This is the entry point: it wires the modules (state.ts,
// render.ts, navigation.ts, editing.ts, find.ts, input.ts) and handles the host's messages.

import { applySettings, installAppearance } from "./appearance";
import { installFind, setFindToggles } from "./find";
import { setHighlighting } from "./colours";
import { clearEditMarks } from "./ruler";
import { setRuleStyles } from "./rules";
import { loadState, onHostMessage, postToHost } from "./host";
import { fromHost, installInput } from "./input";
import { goToEnd, goToLine, motion, redraw, refreshCount, seedLines, setFollowing, setInfo, showAround, showEnd, showLine, stopFollowing } from "./navigation";
import { schedule } from "./queue";
import { drawStatus, fail, measure, setBookmarkLines } from "./render";
import { cache, pipeline, state, visibleLines, type SavedState } from "./state";
import { input } from "./dom";
import { setWrapSettings } from "./wrapping";

installFind();
installInput();
installAppearance();

// ---------------------------------------------------------------------------------------------
// Messages from the host

onHostMessage((m) => {
  switch (m.type) {
    case "init": {
      state.echoesShortcuts = m.echoesShortcuts;
      state.epoch = m.epoch;
      state.filter = m.filter ?? null;
      if (m.settings) applySettings(m.settings, false);
      pipeline.reset(m.info.version);
      setInfo(m.info);
      measure();
      setHighlighting(m.highlighting ?? true);
      setRuleStyles(m.rules ?? []);
      setFindToggles(m.findToggles);
      setWrapSettings(m.wrap);
      const saved = loadState<SavedState>();
      if (saved && typeof saved.top === "number") state.cursor = saved.cursor;
      seedLines(m.first);
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
    case "bookmarks":
      setBookmarkLines(m.lines);
      break;
    case "editorSettings":
      applySettings(m.settings, true);
      break;
    case "settings":
      setHighlighting(m.highlighting);
      break;
    case "highlightRules":
      // The server has the new rules: read the lines again for their matches.
      setRuleStyles(m.rules);
      schedule(async () => {
        await pipeline.settled();
        cache.clear();
        await redraw();
      });
      break;
    case "follow":
      setFollowing(m.on === "toggle" ? !state.following : m.on);
      break;
    case "gotoLine":
    case "find":
    case "replace":
    case "toggleWrap":
      fromHost(m.type);
      break;
    case "gotoOffset": {
      // Tome: Go to Time… (the host asked the server): the cursor to that line's start.
      const { offset, line, end } = m;
      schedule(() =>
        motion(false, async () => {
          stopFollowing();
          if (end) return goToEnd();
          if (line !== null) return goToLine(line);
          // Past the index frontier, or a filter view (whose lines are not the source's): shown
          // by offset, the cursor on the first line at or after it when its number is known.
          await showAround({ around: offset }, Math.floor(visibleLines() / 3));
          const at = state.frame.find((l) => l.offset >= offset);
          if (at && at.number !== null) state.cursor = { line: at.number, character: 0 };
        }),
      );
      break;
    }
    case "wrap":
      setWrapSettings(m.wrap);
      break;
  }
});

// "ready" again each second until the host's `init` comes: after a window reload VS Code may
// make the page before the extension listens to it (seen in code-server under load: the views
// stayed empty), and a message posted then is lost.
postToHost({ type: "ready" });
const readyAgain = setInterval(() => (state.info ? clearInterval(readyAgain) : postToHost({ type: "ready" })), 1000);
