// Message kinds of the raw baseline (bench/workers/raw.ts): [id, kind, payload] → [id, result].
export const SQUARE = 0
export const SQUARES = 1
export const SPIN = 2
export const WARM = 3
export const BLOCK = 4
