/**
 * The mining-intelligence part of `minewatch show IP`: the owner, the IP's totals
 * (hashrate per algorithm, power, farm flag) and one block per session.
 */
import type { IpIntel } from '../estimate/ip-intel.js';
import { kwhPerDay } from '../estimate/power.js';
import { rateWithInterval, withPrefix } from '../estimate/units.js';
import { endpoint } from '../store/ip-address.js';
import { ownerLabel, type OwnerView } from '../store/owners.js';
import type { SessionRow } from '../store/session-store.js';

/** Sessions listed in text; --json has them all. */
const SESSION_PREVIEW = 20;

export function renderIntelText(owner: OwnerView, intel: IpIntel | undefined, sessions: readonly SessionRow[], printable: (s: string) => string): string {
  const out: string[] = [];
  out.push(`owner         ${printable(ownerText(owner))}`);
  if (!intel) {
    out.push('sessions      none recorded (replay the capture with this version to get them)', '');
    return `${out.join('\n')}\n`;
  }
  out.push(`sessions      ${intel.sessions} (${intel.concurrentSessions} at most at once), pools ${intel.pools.join(', ')}`);
  out.push(`workers       ${intel.workers.length ? printable(intel.workers.join(', ')) : '-'}`);
  out.push(`wallets       ${intel.wallets.length ? printable(intel.wallets.join(', ')) : '-'}`);
  out.push(`shares        ${intel.sharesSubmitted} submitted, ${intel.sharesAccepted} accepted, ${intel.sharesRejected} rejected`);
  for (const a of intel.algorithms) {
    const rate = a.hashrate ? rateWithInterval(a.hashrate.value, a.hashrate.low, a.hashrate.high, a.unit ?? 'H/s') : 'no estimate';
    const self = a.selfReported !== null ? `, self-reported ${withPrefix(a.selfReported, 'H/s')}` : '';
    const power = a.power ? `, ${withPrefix(a.power.watts, 'W')} [${withPrefix(a.power.wattsLow, 'W')} – ${withPrefix(a.power.wattsHigh, 'W')}] at ${a.efficiency}` : '';
    out.push(`hashrate      ${a.algo}${a.assumed ? ' (assumed)' : ''}: ${rate}${self}${power}`);
  }
  if (intel.power) {
    const p = intel.power;
    out.push(`power         ${withPrefix(p.watts, 'W')} [${withPrefix(p.wattsLow, 'W')} – ${withPrefix(p.wattsHigh, 'W')}], ${kwhPerDay(p.watts).toFixed(2)} kWh/day [${kwhPerDay(p.wattsLow).toFixed(2)} – ${kwhPerDay(p.wattsHigh).toFixed(2)}]`);
  }
  if (intel.farm) out.push(`farm          yes: ${intel.farmReasons.join('; ')}`);
  out.push('', `Sessions, oldest first (${Math.min(sessions.length, SESSION_PREVIEW)} of ${sessions.length}):`);
  for (const s of sessions.slice(0, SESSION_PREVIEW)) {
    const who = [s.worker && `worker=${s.worker}`, s.wallet && `wallet=${s.wallet}`, s.agent && `agent=${s.agent}`].filter(Boolean).join(' ');
    const rate = s.estHashrate !== null ? rateWithInterval(s.estHashrate, s.estHashrateLow!, s.estHashrateHigh!, s.hashrateUnit ?? 'H/s') : 'no estimate';
    const last = s.difficultyHistory[s.difficultyHistory.length - 1];
    const errors = s.shareErrors.map((e) => `${e.code}${e.message ? ` ${e.message}` : ''} x${e.count}`).join(', ');
    out.push(`  ${s.started} – ${s.ended}  -> ${endpoint(s.poolIp, s.poolPort)}  ${s.dialect}/${s.algo}${s.algoAssumed ? '*' : ''}  ${printable(who)}`);
    out.push(
      `    shares ${s.sharesSubmitted} sub / ${s.sharesAccepted} acc / ${s.sharesRejected} rej${errors ? ` (${printable(errors)})` : ''}` +
        `; difficulty ${last ? printable(last.raw) : '-'}; ${rate} over ${((s.windowEndMicros - s.windowStartMicros) / 1e6).toFixed(0)} s` +
        (s.selfHashrate !== null ? `; self-reported ${withPrefix(s.selfHashrate, 'H/s')}` : ''),
    );
  }
  out.push('');
  return `${out.join('\n')}\n`;
}

function ownerText(o: OwnerView): string {
  if (o.status !== 'matched') return o.status === 'no-owner' ? '(no owner in the asset map)' : '- (no asset map: --assets FILE)';
  const extra = [o.place, o.tags.length ? `tags ${o.tags.join(';')}` : null, `prefix ${o.prefix}`, o.from === 'recorded' ? 'recorded at replay' : null].filter(Boolean);
  return `${ownerLabel(o)}, ${extra.join(', ')}`;
}
