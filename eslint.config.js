// Lint with ESLint's recommended rules plus a few correctness rules. TypeScript
// is parsed with Babel (pure JavaScript: TypeScript 7 has no JS API for
// typescript-eslint, and native linters ship per-platform binaries that this
// project's registry does not carry). Rules that need type information are
// tsc's job (strict, noUnusedLocals, noUnusedParameters).
import babelParser from "@babel/eslint-parser"
import js from "@eslint/js"
import globals from "globals"

export default [
  { ignores: ["node_modules/", "dist/", ".tmp/", "bench/results/"] },
  js.configs.recommended,
  {
    files: ["**/*.ts", "**/*.js"],
    languageOptions: {
      parser: babelParser,
      parserOptions: {
        requireConfigFile: false,
        babelOptions: {
          babelrc: false,
          configFile: false,
          presets: [["@babel/preset-typescript", { onlyRemoveTypeImports: true }]],
          parserOpts: { plugins: ["typescript"] }
        }
      },
      globals: { ...globals.node },
      ecmaVersion: "latest",
      sourceType: "module"
    },
    rules: {
      // covered by tsc, which knows about types, overloads and type-only names
      "no-unused-vars": "off",
      "no-undef": "off",
      "no-redeclare": "off",
      "no-dupe-class-members": "off",
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-empty": ["error", { allowEmptyCatch: true }],
      "prefer-const": "error",
      "no-var": "error",
      "no-self-compare": "error",
      "no-unreachable-loop": "error",
      "no-constant-binary-expression": "error",
      "no-useless-rename": "error",
      "object-shorthand": "error",
      "no-throw-literal": "error"
    }
  }
]
