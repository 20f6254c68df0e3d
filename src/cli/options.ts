// The configuration settings (src/config.ts) as command-line options: each command lists only
// the settings it uses, `--help` shows each one's variable and default, and an on/off setting
// works alone (`--allow-private-targets`), with a value (`--allow-private-targets false`) or
// negated (`--no-allow-private-targets`).
import { Option, type Command } from 'commander';
import { SETTINGS, flagName, type Config } from '../config.js';

/** What commander gives: a string, or a boolean for an on/off option given alone or negated. */
export type Flags = Record<string, string | boolean | undefined>;

/**
 * Adds the options of these settings (all of them when `keys` is omitted) to a command;
 * `defaults` are the command's own defaults where they differ from the settings' (for --help).
 */
export function withSettings(cmd: Command, keys?: readonly (keyof Config)[], defaults: Partial<Config> = {}): Command {
  for (const s of SETTINGS) {
    if (keys && !keys.includes(s.key)) continue;
    const name = flagName(s);
    const value = s.key in defaults ? defaults[s.key] : s.default;
    const shown = value === undefined || (Array.isArray(value) && value.length === 0) ? '' : `, default: ${value}`;
    if (typeof s.default === 'boolean') {
      cmd.addOption(new Option(`--${name} [true|false]`, `${s.help} (${s.env}${shown})`));
      cmd.addOption(new Option(`--no-${name}`, `same as --${name} false`));
    } else {
      cmd.addOption(new Option(`--${name} <value>`, `${s.help} (${s.env}${shown})`));
    }
  }
  return cmd;
}

/** commander's options (camelCase keys) as loadConfig wants them: flag names and text values. */
export function settingFlags(flags: Flags): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    out[key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())] = String(value);
  }
  return out;
}
