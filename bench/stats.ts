// Medians, ranges and per-round ratios.

export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly n: number
}

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Median, min and max, or undefined for no values. */
export const spread = (values: ReadonlyArray<number>): Spread | undefined =>
  values.length === 0
    ? undefined
    : { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length }

/**
 * `ours / reference` for each round in which both have a figure. A reference
 * figure that is not positive (a W1 overhead at or below the ideal) makes no
 * ratio for that round.
 */
export const perRoundRatios = (
  ours: ReadonlyMap<number, number>,
  reference: ReadonlyMap<number, number>
): Array<number> => {
  const ratios: Array<number> = []
  for (const [round, value] of ours) {
    const ref = reference.get(round)
    if (ref !== undefined && ref > 0) ratios.push(value / ref)
  }
  return ratios
}
