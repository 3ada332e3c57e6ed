// piscina's worker: the default export is the tiny task; the others are picked by `{ name }`.
export { square as default, block, spinTask as spin, squares, warm } from "./kernels.ts"
