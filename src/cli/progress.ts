import type { PowProgress } from '../identity/index.ts'

/** 1234567 → "1.23M": attempt counts span from hundreds to ~10^20. */
export function formatCount (n: number): string {
  if (!Number.isFinite(n)) return '∞'
  const units = ['', 'k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']
  let i = 0
  while (Math.abs(n) >= 1000 && i < units.length - 1) { n /= 1000; i++ }
  return i === 0 ? String(Math.round(n)) : `${n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)}${units[i]}`
}

/** Milliseconds in the largest sensible unit ("850ms", "12.3s", "4m 05s", "3h 12m", "5.2 days"). */
export function formatDuration (ms: number): string {
  if (!Number.isFinite(ms)) return '∞'
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1)}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
  const days = s / 86400
  return days < 365 * 1000 ? `${days.toFixed(1)} days` : `${formatCount(days / 365)} years`
}

export function formatRate (hashesPerSecond: number): string {
  return `${(hashesPerSecond / 1e6).toFixed(2)} Mhash/s`
}

/** One status line for a running PoW search. */
export function formatPowProgress (p: PowProgress): string {
  const rate = p.hashesPerSecond > 0 ? formatRate(p.hashesPerSecond) : 'starting'
  const expected = p.hashesPerSecond > 0 ? `, ~${formatDuration(p.expectedMs)} on average` : ''
  return `${rate} on ${p.workers} thread${p.workers === 1 ? '' : 's'} · ${formatCount(p.attempts)} attempts ` +
    `of ~${formatCount(p.expectedAttempts)} expected${expected} · elapsed ${formatDuration(p.elapsedMs)}`
}

/**
 * A progress line rewritten in place on a terminal (`\r` + erase line); on anything else (a pipe,
 * a log file) nothing is written, so captured output holds only the results.
 */
export function createProgressLine (stream: NodeJS.WriteStream = process.stderr): { update: (text: string) => void, clear: () => void } {
  const live = stream.isTTY === true
  let shown = false
  return {
    update (text: string): void {
      if (!live) return
      const width = stream.columns > 1 ? stream.columns - 1 : 120
      stream.write(`\r\x1b[K${text.length > width ? text.slice(0, width) : text}`)
      shown = true
    },
    clear (): void {
      if (live && shown) stream.write('\r\x1b[K')
      shown = false
    }
  }
}
