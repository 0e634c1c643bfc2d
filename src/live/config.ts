/**
 * Settings of `minewatch run`: defaults, then the JSON config file (--config), then flags.
 * The file uses the flags' long names in camelCase (`--buffer-mb` → "bufferMb"); unknown
 * keys and wrong types are errors, so a typo never silently falls back to a default.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_DB_PATH } from '../store/types.js';

export interface RunConfig {
  interface: string;
  bpf: string;
  db: string;
  signatures: string | null;
  listen: ListenAddress | null;
  token: string | null;
  snaplen: number;
  bufferMb: number;
  promisc: boolean;
  /** Seconds between stats lines, capture_stats rows and stats-file writes. */
  statsInterval: number;
  /** Seconds hits may wait in memory before they are written to SQLite. */
  flushInterval: number;
  statsFile: string | null;
  /** Operator's asset map (CSV): the owner of each miner IP is recorded as it is found. */
  assets: string | null;
  /** Account to switch to once the capture is open (root only). */
  user: string | null;
  maxFlows: number | null;
  /** Live feed clients served at once. */
  maxClients: number;
  logLevel: string;
}

export interface ListenAddress {
  host: string;
  port: number;
}

export const RUN_DEFAULTS: Omit<RunConfig, 'interface'> = {
  bpf: '',
  db: DEFAULT_DB_PATH,
  signatures: null,
  listen: null,
  token: null,
  snaplen: 65535,
  bufferMb: 64,
  promisc: true,
  statsInterval: 60,
  flushInterval: 1,
  statsFile: null,
  assets: null,
  user: null,
  maxFlows: null,
  maxClients: 16,
  logLevel: 'info',
};

type Kind = 'string' | 'boolean' | 'integer' | 'number';

/** Every key a config file may hold, with its JSON type and accepted range. */
const KEYS: Readonly<Record<keyof RunConfig, { kind: Kind; min?: number; max?: number }>> = {
  interface: { kind: 'string' },
  bpf: { kind: 'string' },
  db: { kind: 'string' },
  signatures: { kind: 'string' },
  listen: { kind: 'string' },
  token: { kind: 'string' },
  snaplen: { kind: 'integer', min: 64, max: 262144 },
  bufferMb: { kind: 'integer', min: 1, max: 4096 },
  promisc: { kind: 'boolean' },
  statsInterval: { kind: 'number', min: 0.1, max: 86400 },
  flushInterval: { kind: 'number', min: 0.05, max: 60 },
  statsFile: { kind: 'string' },
  assets: { kind: 'string' },
  user: { kind: 'string' },
  maxFlows: { kind: 'integer', min: 1, max: 1 << 28 },
  maxClients: { kind: 'integer', min: 1, max: 1024 },
  logLevel: { kind: 'string' },
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const MIN_TOKEN_LENGTH = 16;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Raw settings as given: flag values are strings (commander) or booleans. */
export type RawSettings = Partial<Record<keyof RunConfig, unknown>>;

export function readConfigFile(path: string): RawSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  }
  for (const key of Object.keys(value)) {
    if (!(key in KEYS)) throw new ConfigError(`config file ${path}: unknown key "${key}"`);
  }
  return value as RawSettings;
}

/** Merges defaults < file < flags and checks every value. */
export function resolveRunConfig(file: RawSettings, flags: RawSettings): RunConfig {
  const merged: RawSettings = { ...dropUndefined(file), ...dropUndefined(flags) };
  const config = { ...RUN_DEFAULTS } as RunConfig;
  const out = config as unknown as Record<string, unknown>;
  for (const [key, spec] of Object.entries(KEYS)) {
    const raw = merged[key as keyof RunConfig];
    if (raw === undefined || raw === null) continue;
    out[key] = coerce(key, spec.kind, raw, spec.min, spec.max);
  }
  if (typeof merged.interface !== 'string' || merged.interface === '') {
    throw new ConfigError('an interface is required: --interface IF or "interface" in the config file');
  }
  config.listen = typeof merged.listen === 'string' ? parseListen(merged.listen) : null;
  if (!LOG_LEVELS.includes(config.logLevel)) {
    throw new ConfigError(`logLevel must be one of ${LOG_LEVELS.join(', ')}`);
  }
  if (config.token !== null && config.token.length < MIN_TOKEN_LENGTH) {
    throw new ConfigError(`the feed token must be at least ${MIN_TOKEN_LENGTH} characters`);
  }
  if (config.listen && config.token === null && !isLoopback(config.listen.host)) {
    throw new ConfigError(
      `refusing to serve the live feed on ${config.listen.host} without a token: set --token (or "token") or listen on loopback`,
    );
  }
  return config;
}

function coerce(key: string, kind: Kind, raw: unknown, min?: number, max?: number): unknown {
  if (kind === 'string') {
    if (typeof raw !== 'string') throw new ConfigError(`${key} must be a string`);
    return raw;
  }
  if (kind === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    throw new ConfigError(`${key} must be true or false`);
  }
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n) || (kind === 'integer' && !Number.isInteger(n))) {
    throw new ConfigError(`${key} must be ${kind === 'integer' ? 'an integer' : 'a number'}, got ${JSON.stringify(raw)}`);
  }
  if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
    throw new ConfigError(`${key} must be between ${min} and ${max}, got ${n}`);
  }
  return n;
}

/** HOST:PORT, with IPv6 hosts in brackets ([::1]:8765). */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new ConfigError(`listen must be HOST:PORT (IPv6 as [addr]:PORT), got "${text}"`);
  }
  return { host: (m[1] ?? m[2])!, port };
}

/** Loopback names and addresses: 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

function dropUndefined(settings: RawSettings): RawSettings {
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as RawSettings;
}
