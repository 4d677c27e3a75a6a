// ESLint flat config for the web UI (ui/src), the browser and desktop tests (tests/e2e, tests/desktop) and the benches
// (bench/ui). Lives at the root beside package.json so `npm run lint` needs no --config.
// Rules are the recommended, non-type-checked sets: the type-aware ones need a TypeScript
// program per run, and `tsc --noEmit` already checks types.
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default defineConfig(
  { ignores: ["ui/dist/**", "**/node_modules/**", "tests/e2e/screenshots/**", "tests/desktop/screenshots/**"] },
  {
    files: ["ui/src/**/*.{ts,tsx}", "ui/vite.config.ts"],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { globals: globals.browser },
    plugins: { "react-hooks": reactHooks },
    rules: {
      // Only the two classic hook rules: plugin v7's `recommended` adds the React Compiler
      // rules, and the app does not use the compiler.
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "error",
      // `const { [key]: _, ...rest } = obj` omits a key: the named sibling is meant to go unused.
      "@typescript-eslint/no-unused-vars": ["error", { ignoreRestSiblings: true }],
    },
  },
  {
    files: ["tests/e2e/**/*.mjs", "tests/desktop/*.mjs", "bench/ui/*.mjs", "bench/desktop/*.mjs", "eslint.config.js"],
    extends: [js.configs.recommended],
    // These run in Node, but their page.evaluate callbacks run in the browser.
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      "no-unused-vars": ["error", { ignoreRestSiblings: true }],
    },
  },
);
