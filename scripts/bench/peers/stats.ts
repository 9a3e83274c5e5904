/** The two judgements `npm run bench:peers` makes on a memory series. */

/** Least-squares slope of y over x (x in minutes: the slope is per minute); 0 with fewer than 2 points. */
export function slopePerMinute (points: ReadonlyArray<{ x: number, y: number }>): number {
  const n = points.length
  if (n < 2) return 0
  const mx = points.reduce((s, p) => s + p.x, 0) / n
  const my = points.reduce((s, p) => s + p.y, 0) / n
  let num = 0
  let den = 0
  for (const p of points) { num += (p.x - mx) * (p.y - my); den += (p.x - mx) ** 2 }
  return den === 0 ? 0 : num / den
}

export interface Flatness {
  /** (mean of the last third − mean of the first third) / mean of the first third. */
  change: number
  flat: boolean
}

/**
 * "Flat": the mean of the last third of the samples is within `tolerance` (0.05 = 5 %) of the
 * mean of the first third, above or below. A series too short to have thirds is judged on its
 * first and last values.
 */
export function flatness (values: readonly number[], tolerance: number): Flatness {
  if (values.length === 0) return { change: 0, flat: true }
  const third = Math.max(1, Math.floor(values.length / 3))
  const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length
  const first = mean(values.slice(0, third))
  const last = mean(values.slice(values.length - third))
  const change = first === 0 ? 0 : (last - first) / first
  return { change, flat: Math.abs(change) <= tolerance }
}
