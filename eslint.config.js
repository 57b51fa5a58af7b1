// ESLint flat config: typescript-eslint's recommended type-aware rules on all project TypeScript.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "out/", ".local/", "tools/go/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ["*.js", "policy/*.js"] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    // What ships (and the CLI the workflows run) never imports what only runs or tests it
    // (docs/architecture.md): the local environment, the tests, the benchmarks, the runner.
    files: ["core/**", "components/**", "provider/**", "pipeline/**", "policy/**", "cli/**", "index.ts"],
    ignores: ["cli/local.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "(^|/)(local-env|test|bench|scripts)(/|$)",
              message: "shipped code never imports the harness (local-env, test, bench, scripts)",
            },
          ],
        },
      ],
    },
  },
);
