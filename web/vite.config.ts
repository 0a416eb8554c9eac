/**
 * The dashboard's build: web/ → dist/web (served by `segmenta serve` at /, see src/server/static.ts).
 * Everything is bundled (no CDN, no font or script from elsewhere); the Vega runtime is a chunk of
 * its own, loaded when the first chart is drawn.
 */
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    modulePreload: { polyfill: false },
    // No report of plugin timings on every build (a busy machine makes them look slow).
    rolldownOptions: { checks: { pluginTimings: false } },
  },
});
