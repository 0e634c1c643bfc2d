/**
 * `minewatch run --interface IF`: the live sensor as a long-running process. Settings come
 * from flags over a JSON config file over defaults (live/config.ts). SIGTERM and SIGINT
 * store everything seen and exit 0; SIGHUP reloads signatures.
 *
 * Exit status: 0 after a clean stop; 1 when the capture cannot start (missing `pcap`
 * module, no such interface, no permission); 2 for bad options, config, database or
 * feed address.
 */
import type { Command } from 'commander';
import { CaptureOpenError, type CaptureBackend } from '../capture/live-backend.js';
import { loadPcapModule, pcapBackend } from '../capture/pcap-backend.js';
import { readConfigFile, resolveRunConfig, type RawSettings, type RunConfig } from '../live/config.js';
import { Daemon } from '../live/daemon.js';
import { createLogger } from './logger.js';

interface RunFlags {
  interface?: string;
  bpf?: string;
  db?: string;
  signatures?: string;
  config?: string;
  listen?: string;
  token?: string;
  snaplen?: string;
  bufferMb?: string;
  promisc?: boolean;
  statsInterval?: string;
  flushInterval?: string;
  statsFile?: string;
  assets?: string;
  user?: string;
  maxFlows?: string;
  maxClients?: string;
  logLevel?: string;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('capture live on an interface (mirror/SPAN/TAP port) and record mining hits')
    .option('-i, --interface <if>', 'interface to capture on')
    .option('--bpf <expr>', 'BPF filter, applied in the kernel (default: everything)')
    .option('--db <path>', 'SQLite database to write (default ./minewatch.db)')
    .option('--signatures <dir>', 'signature directory (reloaded on SIGHUP)')
    .option('--config <file>', 'JSON config file; its keys are these flags in camelCase, flags win')
    .option('--listen <host:port>', 'serve the live hit feed (WebSocket) on this address')
    .option('--token <token>', 'token feed clients must present (required off loopback)')
    .option('--snaplen <bytes>', 'bytes kept per packet (default 65535)')
    .option('--buffer-mb <mb>', 'kernel capture ring in MiB (default 64)')
    .option('--promisc', 'promiscuous mode (default)')
    .option('--no-promisc', 'do not put the interface in promiscuous mode')
    .option('--stats-interval <s>', 'seconds between stats lines and capture_stats rows (default 60)')
    .option('--flush-interval <s>', 'seconds hits may wait before they are written (default 1)')
    .option('--stats-file <path>', 'also write the latest stats as JSON to this file')
    .option('--assets <file>', "CSV mapping IPs/CIDRs to owners; miner IPs' owners are recorded as they are found")
    .option('--user <user[:group]>', 'when started as root, switch to this user once the capture is open')
    .option('--max-flows <n>', 'flow table capacity')
    .option('--max-clients <n>', 'live feed clients served at once (default 16)')
    .option('--log-level <level>', 'pino level: fatal, error, warn, info, debug (default info)')
    .action(async (flags: RunFlags) => {
      const code = await runLive(flags);
      if (code !== null) process.exit(code);
    });
}

/** Returns an exit code when the sensor could not start; null while it runs. */
export async function runLive(flags: RunFlags, backend: CaptureBackend = pcapBackend): Promise<number | null> {
  let config: RunConfig;
  try {
    const file: RawSettings = flags.config ? readConfigFile(flags.config) : {};
    const { config: _configPath, ...settings } = flags;
    config = resolveRunConfig(file, settings as RawSettings);
  } catch (err) {
    return fail(err, 2);
  }
  if (backend === pcapBackend) {
    try {
      loadPcapModule();
    } catch (err) {
      return fail(err, 1);
    }
  }
  const log = createLogger(config.logLevel);
  let daemon: Daemon;
  try {
    daemon = await Daemon.start(config, { backend, log });
  } catch (err) {
    return fail(err, err instanceof CaptureOpenError ? 1 : 2);
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      // A second Ctrl-C while stopping means: now.
      if (signal === 'SIGINT') process.exit(130);
      return;
    }
    stopping = true;
    daemon.stop(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => daemon.reload());
  return null;
}

function fail(err: unknown, code: number): number {
  process.stderr.write(`minewatch: ${err instanceof Error ? err.message : String(err)}\n`);
  return code;
}
