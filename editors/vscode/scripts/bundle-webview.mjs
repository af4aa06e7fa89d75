// Bundles the webview (src/webview/editor.ts + src/viewport.ts) into out/webview/editor.js.
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
