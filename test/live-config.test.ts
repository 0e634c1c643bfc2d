/** `minewatch run` settings: defaults < config file < flags, and the checks on each key. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { ConfigError, isLoopback, parseListen, readConfigFile, resolveRunConfig, RUN_DEFAULTS } from '../src/live/config.js';
import { scratchDir } from './support/scratch.js';

const TOKEN = 'a-long-enough-feed-token';

function configFile(content: unknown): string {
  const path = join(scratchDir('minewatch-config-'), 'minewatch.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('run config', () => {
  it('takes defaults, then the file, then flags', () => {
    const file = readConfigFile(configFile({ interface: 'eth1', bpf: 'tcp', bufferMb: 128, promisc: false, listen: '127.0.0.1:9000' }));
    const config = resolveRunConfig(file, { bpf: 'tcp port 3333', bufferMb: '256', snaplen: undefined });
    expect(config).toMatchObject({
      interface: 'eth1',
      bpf: 'tcp port 3333',
      bufferMb: 256,
      promisc: false,
      snaplen: RUN_DEFAULTS.snaplen,
      listen: { host: '127.0.0.1', port: 9000 },
      token: null,
    });
    expect(resolveRunConfig(file, { promisc: true }).promisc).toBe(true);
  });

  it('the deploy example config is valid', () => {
    const config = resolveRunConfig(readConfigFile(join(PROJECT_ROOT, 'deploy', 'minewatch.example.json')), {});
    expect(config.interface).toBeTruthy();
    expect(config.token).not.toBeNull();
  });

  it('rejects unknown keys, wrong types, out-of-range values and bad JSON', () => {
    expect(() => readConfigFile(configFile({ interface: 'eth1', bufferMB: 64 }))).toThrow(/unknown key "bufferMB"/);
    expect(() => readConfigFile(configFile('{ not json'))).toThrow(ConfigError);
    expect(() => readConfigFile(configFile([1]))).toThrow(/JSON object/);
    expect(() => readConfigFile('/nonexistent/minewatch.json')).toThrow(/cannot read/);
    expect(() => resolveRunConfig({ interface: 'eth1', promisc: 'yes' }, {})).toThrow(/promisc must be true or false/);
    expect(() => resolveRunConfig({ interface: 'eth1' }, { snaplen: '10' })).toThrow(/snaplen must be between/);
    expect(() => resolveRunConfig({ interface: 'eth1' }, { statsInterval: 'soon' })).toThrow(/statsInterval must be a number/);
    expect(() => resolveRunConfig({ interface: 'eth1' }, { logLevel: 'loud' })).toThrow(/logLevel/);
    expect(() => resolveRunConfig({}, {})).toThrow(/interface is required/);
  });

  it('serves the feed off loopback only with a token, and tokens must be long', () => {
    expect(() => resolveRunConfig({ interface: 'eth1' }, { listen: '0.0.0.0:8765' })).toThrow(/without a token/);
    expect(() => resolveRunConfig({ interface: 'eth1' }, { listen: '192.0.2.1:8765' })).toThrow(/without a token/);
    expect(resolveRunConfig({ interface: 'eth1' }, { listen: '0.0.0.0:8765', token: TOKEN }).listen).toEqual({ host: '0.0.0.0', port: 8765 });
    expect(resolveRunConfig({ interface: 'eth1' }, { listen: '[::1]:8765' }).listen).toEqual({ host: '::1', port: 8765 });
    expect(resolveRunConfig({ interface: 'eth1', listen: 'localhost:1' }, {}).token).toBeNull();
    expect(() => resolveRunConfig({ interface: 'eth1' }, { token: 'short' })).toThrow(/at least 16/);
  });

  it('parses listen addresses and knows loopback', () => {
    expect(parseListen('127.0.0.1:80')).toEqual({ host: '127.0.0.1', port: 80 });
    expect(parseListen('[2001:db8::1]:443')).toEqual({ host: '2001:db8::1', port: 443 });
    expect(() => parseListen('8765')).toThrow(ConfigError);
    expect(() => parseListen('host:70000')).toThrow(ConfigError);
    expect(() => parseListen('::1:80')).toThrow(ConfigError);
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost', 'LOCALHOST'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '128.0.0.1', '127.0.0.256', 'localhost.example', '192.0.2.1'].some(isLoopback)).toBe(false);
  });
});
