/**
 * What Linux says about a network interface, from /sys/class/net (namespace-aware: it
 * shows the interfaces of the network namespace the process runs in).
 */
import { readFileSync } from 'node:fs';

export interface InterfaceState {
  exists: boolean;
  /** Kernel index; changes when the interface is deleted and created again. */
  ifindex: number;
  /** Administratively up (IFF_UP) and not without carrier. */
  up: boolean;
  /** Receive drops the driver counts (rx_dropped + rx_missed_errors); 0 when unknown. */
  rxDropped: number;
}

const IFF_UP = 0x1;
const SAFE_NAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

export function interfaceState(name: string, sysfs = '/sys/class/net'): InterfaceState {
  // Interface names are at most 15 bytes and never hold '/': anything else is no interface.
  if (!SAFE_NAME.test(name) || name === '.' || name === '..') return { exists: false, ifindex: -1, up: false, rxDropped: 0 };
  const dir = `${sysfs}/${name}`;
  const ifindex = readNumber(`${dir}/ifindex`);
  if (ifindex === null) return { exists: false, ifindex: -1, up: false, rxDropped: 0 };
  const flags = readNumber(`${dir}/flags`) ?? 0;
  const operstate = readText(`${dir}/operstate`) ?? 'unknown';
  // 'unknown' is what loopback and many virtual devices report while working.
  const up = (flags & IFF_UP) !== 0 && operstate !== 'down' && operstate !== 'lowerlayerdown' && operstate !== 'notpresent';
  const rxDropped = (readNumber(`${dir}/statistics/rx_dropped`) ?? 0) + (readNumber(`${dir}/statistics/rx_missed_errors`) ?? 0);
  return { exists: true, ifindex, up, rxDropped };
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

function readNumber(path: string): number | null {
  const text = readText(path);
  if (text === null || text === '') return null;
  const n = Number(text); // flags are hex ("0x1003"); Number() reads both forms
  return Number.isFinite(n) ? n : null;
}
