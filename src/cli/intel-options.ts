/**
 * Options shared by the commands that show mining intelligence (export, report, show,
 * replay): --assets FILE and the farm threshold overrides, and the context they build
 * from the store (sessions, per-IP estimates, owners).
 */
import type { Command } from 'commander';
import type { ExportContext } from '../export/records.js';
import type { FarmThresholds } from '../estimate/farm.js';
import { defaultIntelTables, intelByIp } from '../estimate/ip-intel.js';
import { AssetMap } from '../store/asset-map.js';
import type { HitStore } from '../store/hit-store.js';
import { ownerLookup } from '../store/owners.js';
import type { RecordedOwner, SessionFilter } from '../store/session-store.js';

export interface AssetsOption {
  assets?: string;
}

export interface FarmOptions {
  farmWorkers?: string;
  farmSessions?: string;
  farmKw?: string;
}

export function addAssetsOption(cmd: Command): Command {
  return cmd.option('--assets <file>', 'CSV mapping IPs/CIDRs to owners (prefix,owner_id,name,place,tags)');
}

export function addFarmOptions(cmd: Command): Command {
  return cmd
    .option('--farm-workers <n>', 'flag an IP as a farm from this many distinct workers')
    .option('--farm-sessions <n>', 'flag an IP as a farm from this many concurrent sessions')
    .option('--farm-kw <kw>', 'flag an IP as a farm from this power (low end of its range), kW');
}

/** The asset map named by --assets (null without one); throws AssetMapError on a bad file. */
export function loadAssets(opts: AssetsOption): AssetMap | null {
  return opts.assets === undefined ? null : AssetMap.load(opts.assets);
}

/** Farm threshold overrides, or an error message for a bad value. */
export function farmOverrides(opts: FarmOptions): Partial<FarmThresholds> | string {
  const out: Partial<FarmThresholds> = {};
  const parse = (text: string | undefined, flag: string, scale: number, key: keyof FarmThresholds): string | null => {
    if (text === undefined) return null;
    const n = Number(text);
    if (!Number.isFinite(n) || n < 0) return `${flag} must be a non-negative number, got '${text}'`;
    out[key] = n * scale;
    return null;
  };
  return (
    parse(opts.farmWorkers, '--farm-workers', 1, 'workers') ??
    parse(opts.farmSessions, '--farm-sessions', 1, 'concurrentSessions') ??
    parse(opts.farmKw, '--farm-kw', 1000, 'powerWattsLow') ??
    out
  );
}

/** Sessions, per-IP intelligence and owners for the IPs in view. */
export function intelContext(
  store: HitStore,
  assets: AssetMap | null,
  farm: Partial<FarmThresholds>,
  filter: SessionFilter = {},
): ExportContext {
  const sessions = store.sessions.list(filter);
  const intel = intelByIp(sessions, defaultIntelTables(farm));
  return { intel, owner: ownerLookup(assets, store.sessions.recordedOwners()), sessions };
}

/** Owners of the given miner IPs per the asset map, for recording at replay time. */
export function ownersToRecord(assets: AssetMap, ips: Iterable<string>): RecordedOwner[] {
  const now = new Date().toISOString();
  const out: RecordedOwner[] = [];
  for (const ip of ips) {
    const hit = assets.lookup(ip);
    if (hit) out.push({ ip, prefix: hit.prefix, ownerId: hit.ownerId, name: hit.name, place: hit.place, tags: hit.tags, assetsFile: assets.name, recordedAt: now });
  }
  return out;
}
