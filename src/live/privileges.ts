/**
 * `--user NAME[:GROUP]`: started as root, the sensor opens the capture and then becomes
 * NAME. Node cannot keep capabilities across setuid, so after this a capture lost to a
 * deleted interface cannot be reopened (a flapping interface still recovers on the old
 * handle). Prefer the systemd unit's ambient capabilities (README, "Deployment").
 */
import { execFileSync } from 'node:child_process';

export interface Identity {
  uid: number;
  gid: number;
}

export function resolveIdentity(spec: string): Identity {
  const [user, group] = spec.split(':', 2) as [string, string | undefined];
  if (!user) throw new Error(`--user needs a user name, got "${spec}"`);
  const uid = /^\d+$/.test(user) ? Number(user) : lookupId(['-u', user], `no such user: ${user}`);
  const gid =
    group === undefined || group === ''
      ? lookupId(['-g', user], `no such user: ${user}`)
      : /^\d+$/.test(group)
        ? Number(group)
        : lookupGroup(group);
  return { uid, gid };
}

/** Switches to the identity for good (groups, gid, then uid). */
export function dropPrivileges(spec: string): Identity {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error('--user only works when minewatch is started as root');
  }
  const id = resolveIdentity(spec);
  process.setgroups!([id.gid]);
  process.setgid!(id.gid);
  process.setuid!(id.uid);
  if (process.getuid() !== id.uid || process.geteuid!() !== id.uid) throw new Error(`could not switch to uid ${id.uid}`);
  return id;
}

function lookupId(args: string[], missing: string): number {
  try {
    return Number(execFileSync('id', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    throw new Error(missing);
  }
}

function lookupGroup(name: string): number {
  try {
    const line = execFileSync('getent', ['group', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const gid = Number(line.split(':')[2]);
    if (Number.isInteger(gid)) return gid;
  } catch {
    // fall through
  }
  throw new Error(`no such group: ${name}`);
}
