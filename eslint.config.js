// ESLint, configured once for the whole repository: typescript-eslint's strict rules.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", ".wrangler/", "dist/", "worker-configuration.d.ts", "coverage/", ".node/"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-non-null-assertion": "off",
      "no-console": "off",
      "@typescript-eslint/no-unused-vars": ["error", { ignoreRestSiblings: true }],
      // `import { z }` pulls zod's whole namespace (every locale) into a bundle: ~100 KiB gzip.
      "no-restricted-syntax": [
        "error",
        {
          selector: "ImportDeclaration[source.value='zod'][importKind!='type'] > ImportSpecifier[imported.name='z']",
          message: 'Use `import * as z from "zod"` so unused parts tree-shake.',
        },
      ],
    },
  },
  {
    // The Worker bundle has a 50 KiB gzip budget: classic zod alone is ~25 KiB of it, zod/mini ~7.
    // (src/openapi/document.ts runs only at build time and in tests.)
    files: ["src/**/*.ts"],
    ignores: ["src/openapi/document.ts", "src/client/**", "src/check/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        { paths: [{ name: "zod", message: 'Worker code uses `import * as z from "zod/mini"` (bundle budget).' }] },
      ],
    },
  },
  {
    files: ["scripts/**/*.mjs", "*.config.js", ".ci/**/*.mjs"],
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        URL: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        Buffer: "readonly",
        fetch: "readonly",
        AbortSignal: "readonly",
        TextEncoder: "readonly",
      },
    },
  },
);
