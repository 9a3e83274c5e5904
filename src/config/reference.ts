import { defaultConfigJson, valueAt } from './defaults.ts'
import { RUN_FLAGS, flagDefaultText, flagName, type RunFlagSpec } from './flags.ts'
import { SETTINGS, type SettingSpec } from './settings.ts'

/**
 * The configuration reference as markdown, rendered from the settings table, the defaults and
 * the flags (the README's "Config reference" section is this text).
 */

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
const code = (text: string): string => `\`${text.replace(/`/g, '')}\``

/** The flags that set or change `key`. */
export function flagsForKey (key: string): RunFlagSpec[] {
  return RUN_FLAGS.filter(f => f.key === key || f.affects?.includes(key) === true)
}

function defaultCell (s: SettingSpec): string {
  if (s.defaultText !== undefined) return cell(s.defaultText)
  const value = valueAt(defaultConfigJson(), s.key)
  if (value === undefined) return '—'
  const text = JSON.stringify(value)
  return text.length > 60 ? cell(`${text.slice(0, 57)}…`) : code(text)
}

function settingRow (s: SettingSpec): string {
  const flags = flagsForKey(s.key).map(f => code(flagName(f))).join(', ')
  const origin = s.octez ? 'Octez' : 'tzp2p'
  return `| ${code(s.key)} | ${cell(s.accepts)} | ${defaultCell(s)} | ${flags === '' ? '—' : flags} | ${origin} | ${cell(s.description)} |`
}

function flagRow (f: RunFlagSpec): string {
  const sets = f.key !== undefined ? code(f.key) : f.affects !== undefined ? f.affects.map(code).join(', ') : '—'
  const def = flagDefaultText(f)
  return `| ${code(f.flags)} | ${sets} | ${def === undefined ? '—' : cell(def)} | ${f.octez ? 'yes' : 'no'} | ${cell(f.description)} |`
}

export function renderConfigReference (): string {
  const effective = SETTINGS.filter(s => s.effect === undefined)
  const withoutEffect = SETTINGS.filter(s => s.effect === 'none').map(s => code(s.key))
  const refused = SETTINGS.filter(s => s.effect === 'refused')
  const lines = [
    '### Config file',
    '',
    'A JSON object, read from `--config-file`, else from `<data-dir>/config.json` when it exists. Keys are Octez\'s where Octez has the setting (Octez spells some with `_`, some with `-`; tzp2p keeps its spelling, so an Octez `config.json` loads). Values given on the command line win over the file, which wins over the defaults. Durations are in seconds. Unknown keys are errors (with the closest known key suggested).',
    '',
    '| key | accepted values | default | flag | from | description |',
    '| --- | --- | --- | --- | --- | --- |',
    ...effective.map(settingRow),
    '',
    `Accepted so that an Octez config file loads, without effect in tzp2p (each one present is reported as a warning): ${withoutEffect.join(', ')}.`,
    '',
    `Refused (an error if present): ${refused.map(s => `${code(s.key)} (${cell(s.description.replace(/^Refused: /, ''))})`).join('; ')}`,
    '',
    '### `tzp2p run` options',
    '',
    '| option | config key | default | Octez option | description |',
    '| --- | --- | --- | --- | --- |',
    ...RUN_FLAGS.map(flagRow)
  ]
  return `${lines.join('\n')}\n`
}

