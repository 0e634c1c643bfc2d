/**
 * Suricata EVE-JSON alerts, one line per mining session, so a SIEM that ingests Suricata
 * takes minewatch's findings as they are: the standard alert fields (timestamp,
 * event_type "alert", src = miner, dest = pool, proto, alert.signature/category/severity)
 * plus a `minewatch` object with the session's evidence and estimates, the IP's totals
 * and its owner. Signature ids and texts come from signatures/eve-alerts.json. A farm's
 * sessions are raised to severity 1.
 */
import type { SessionRow } from '../store/session-store.js';
import type { IpSummary } from '../store/types.js';
import { defaultEfficiencyTable, type EfficiencyTable } from '../estimate/efficiency.js';
import { kwhPerDay, powerFrom } from '../estimate/power.js';
import { finiteNumber, readTable, tableRows, text } from '../estimate/signature-tables.js';
import { EMPTY_CONTEXT, type ExportContext } from './records.js';

export interface EveAlertTable {
  category: string;
  severity: number;
  byDialect: Map<string, { signatureId: number; signature: string }>;
}

export function eveAlertTable(table: Record<string, unknown>, name = 'eve-alerts.json'): EveAlertTable {
  const cat = table.category as Record<string, unknown> | undefined;
  if (!cat || typeof cat !== 'object') throw new Error(`${name}: "category" must be an object`);
  const byDialect = new Map<string, { signatureId: number; signature: string }>();
  for (const [i, row] of tableRows(table, 'rows', name).entries()) {
    const where = `${name}: rows[${i}]`;
    byDialect.set(text(row, 'dialect', where), { signatureId: finiteNumber(row, 'signature_id', where), signature: text(row, 'signature', where) });
  }
  return { category: text(cat, 'name', `${name}: category`), severity: finiteNumber(cat, 'severity', `${name}: category`), byDialect };
}

let shared: EveAlertTable | undefined;

function defaultEveTable(): EveAlertTable {
  shared ??= eveAlertTable(readTable('eve-alerts.json'));
  return shared;
}

/** Suricata's timestamp form: 2017-01-17T11:32:31.977833+0000. */
export function eveTimestamp(iso: string): string {
  return iso.endsWith('Z') ? `${iso.slice(0, -1)}+0000` : iso;
}

export function toEve(
  rows: readonly IpSummary[],
  ctx: ExportContext = EMPTY_CONTEXT,
  alerts: EveAlertTable = defaultEveTable(),
  efficiency: EfficiencyTable = defaultEfficiencyTable(),
): string {
  const miners = new Set(rows.filter((r) => r.role === 'miner').map((r) => r.ip));
  const pools = new Set(rows.filter((r) => r.role === 'pool').map((r) => r.ip));
  const sessions = (ctx.sessions ?? []).filter((s) => miners.has(s.minerIp) || pools.has(s.poolIp));
  return sessions.map((s) => `${JSON.stringify(alertOf(s, ctx, alerts, efficiency))}\n`).join('');
}

function alertOf(s: SessionRow, ctx: ExportContext, alerts: EveAlertTable, efficiency: EfficiencyTable): object {
  const rule = alerts.byDialect.get(s.dialect) ?? alerts.byDialect.get('*') ?? { signatureId: 0, signature: `MINEWATCH ${s.dialect} mining session` };
  const intel = ctx.intel.get(s.minerIp);
  const owner = ctx.owner(s.minerIp);
  const rate = s.estHashrate !== null && s.estHashrateLow !== null && s.estHashrateHigh !== null ? { value: s.estHashrate, low: s.estHashrateLow, high: s.estHashrateHigh } : null;
  const eff = rate ? efficiency.get(s.algo) : undefined;
  const power = rate && eff ? powerFrom(rate, eff) : null;
  const last = s.difficultyHistory[s.difficultyHistory.length - 1];
  return {
    timestamp: eveTimestamp(s.started),
    event_type: 'alert',
    src_ip: s.minerIp,
    src_port: s.minerPort,
    dest_ip: s.poolIp,
    dest_port: s.poolPort,
    proto: s.transport.toUpperCase(),
    alert: {
      action: 'allowed',
      gid: 1,
      signature_id: rule.signatureId,
      rev: 1,
      signature: rule.signature,
      category: alerts.category,
      severity: intel?.farm ? 1 : alerts.severity,
    },
    // Transport payload bytes (minewatch does not keep header bytes).
    flow: {
      pkts_toserver: s.packetsToPool,
      pkts_toclient: s.packetsToMiner,
      bytes_toserver: s.bytesToPool,
      bytes_toclient: s.bytesToMiner,
      start: eveTimestamp(s.started),
      end: eveTimestamp(s.ended),
    },
    minewatch: {
      session_id: s.id,
      source: s.source,
      dialect: s.dialect,
      algo: s.algo,
      algo_assumed: s.algoAssumed,
      agent: s.agent,
      login: s.login,
      wallet: s.wallet,
      worker: s.worker,
      workers: s.workers,
      pool_host: s.poolHost,
      shares: {
        submitted: s.sharesSubmitted,
        accepted: s.sharesAccepted,
        rejected: s.sharesRejected,
        stale: s.sharesStale,
        errors: s.shareErrors,
      },
      difficulty_last: last ? last.raw : null,
      hashes_per_share_last: last ? last.hashesPerShare : null,
      window_seconds: (s.windowEndMicros - s.windowStartMicros) / 1e6,
      hashrate_unit: s.hashrateUnit,
      est_hashrate: s.estHashrate,
      est_hashrate_low: s.estHashrateLow,
      est_hashrate_high: s.estHashrateHigh,
      self_reported_hashrate: s.selfHashrate,
      est_power_w: power?.watts ?? null,
      est_power_w_low: power?.wattsLow ?? null,
      est_power_w_high: power?.wattsHigh ?? null,
      est_kwh_day: power ? kwhPerDay(power.watts) : null,
      ip: intel
        ? {
            sessions: intel.sessions,
            concurrent_sessions: intel.concurrentSessions,
            workers: intel.workers.length,
            wallets: intel.wallets.length,
            coins: intel.coins,
            est_power_w: intel.power?.watts ?? null,
            est_power_w_low: intel.power?.wattsLow ?? null,
            est_power_w_high: intel.power?.wattsHigh ?? null,
            est_kwh_day: intel.power ? kwhPerDay(intel.power.watts) : null,
            farm: intel.farm,
            farm_reasons: intel.farmReasons,
          }
        : null,
      owner: {
        status: owner.status,
        prefix: owner.prefix,
        id: owner.ownerId,
        name: owner.name,
        place: owner.place,
        tags: owner.tags,
      },
    },
  };
}
