import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTypescript from "eslint-config-next/typescript";

// Next's own rules (React, React hooks, Core Web Vitals) and its TypeScript ones; part of `npm test`.
export default defineConfig([
  ...nextVitals,
  ...nextTypescript,
  {
    rules: {
      // `_` marks what a destructuring leaves out on purpose; anything else unused is a mistake.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
  globalIgnores([".next/**", "out/**", "build/**", "next-env.d.ts", "test-results/**", "playwright-report/**", "bench/peer/**", "data/**"]),
]);
