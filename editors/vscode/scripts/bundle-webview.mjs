// Bundles the webview (src/webview/editor.ts and the modules it imports: src/webview/*.ts,
// src/protocol.ts, src/viewport.ts, src/selection.ts) into out/webview/editor.js.
import { build } from "esbuild";

await build({
  entryPoints: ["src/webview/editor.ts"],
  bundle: true,
  format: "iife",
  target: "es2022",
  outfile: "out/webview/editor.js",
  sourcemap: true,
  logLevel: "warning",
});
