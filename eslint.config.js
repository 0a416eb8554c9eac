import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "out/**", "node_modules/**", "coverage/**", "scratch/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Everything above io/ must run in a browser too: no Node built-ins there.
    files: [
      "src/core/**", "src/preprocess/**", "src/cluster/**", "src/metrics/**", "src/embed/**",
      "src/profile/**", "src/charts/**", "src/pipeline/**",
    ],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["node:*", "fs", "path", "os", "worker_threads", "@duckdb/*"], message: "Layers above io/ are isomorphic: no Node built-ins." }] }],
    },
  },
  {
    files: ["bin/**", "bench/**", "test/**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
);
