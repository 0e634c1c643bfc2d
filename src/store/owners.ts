/**
 * Who is behind an IP, for exports and reports: the asset map given to this command when
 * there is one, else the owner recorded when the capture was replayed with --assets.
 * IPs with no owner are marked so, and so is output made without any asset map.
 */
import type { AssetMap } from './asset-map.js';
import type { RecordedOwner } from './session-store.js';

export type OwnerStatus = 'matched' | 'no-owner' | 'no-asset-map';

export interface OwnerView {
  status: OwnerStatus;
  /** Where the owner came from: this command's asset map or the one recorded at replay. */
  from: 'asset-map' | 'recorded' | null;
  prefix: string | null;
  ownerId: string | null;
  name: string | null;
  place: string | null;
  tags: string[];
}

export type OwnerLookup = (ip: string) => OwnerView;

const NONE: Omit<OwnerView, 'status'> = { from: null, prefix: null, ownerId: null, name: null, place: null, tags: [] };

export function ownerLookup(assets: AssetMap | null, recorded: ReadonlyMap<string, RecordedOwner> = new Map()): OwnerLookup {
  const anyMap = assets !== null || recorded.size > 0;
  return (ip) => {
    const hit = assets?.lookup(ip);
    if (hit) return { status: 'matched', from: 'asset-map', prefix: hit.prefix, ownerId: hit.ownerId, name: hit.name, place: hit.place, tags: hit.tags };
    const rec = recorded.get(ip);
    if (rec) return { status: 'matched', from: 'recorded', prefix: rec.prefix, ownerId: rec.ownerId, name: rec.name, place: rec.place, tags: [...rec.tags] };
    return { status: anyMap ? 'no-owner' : 'no-asset-map', ...NONE, tags: [] };
  };
}

/** Short label for tables: "Acme Hosting (ACME-001)", "(no owner)", "-" without a map. */
export function ownerLabel(o: OwnerView): string {
  if (o.status === 'no-asset-map') return '-';
  if (o.status === 'no-owner') return '(no owner)';
  const name = o.name ?? o.ownerId ?? o.prefix ?? '?';
  return o.name !== null && o.ownerId !== null ? `${name} (${o.ownerId})` : name;
}
