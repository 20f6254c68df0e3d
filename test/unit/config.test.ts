import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, SETTINGS, flagName, loadConfig, type Config } from '../../src/config.js';

// loadConfig is always given its own environment here: the process's is never read.
const load = (env: Record<string, string> = {}, flags: Record<string, string | undefined> = {}, overrides: Partial<Config> = {}) =>
  loadConfig(env, flags, overrides);

function throwsNaming(fn: () => unknown, name: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.ok(err.message.includes(name), `"${err.message}" should name ${name}`);
    return true;
  });
}

describe('defaults', () => {
  it('match the contract table', () => {
    const c = load();
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8080);
    assert.equal(c.dataDir, './data');
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.role, 'all');
    assert.equal(c.adminKey, undefined);
    assert.equal(c.allowPrivateTargets, false);
    assert.equal(c.deliveryTimeoutMs, 10_000);
    assert.equal(c.maxRetries, 5);
    assert.equal(c.retryBaseMs, 30_000);
    assert.equal(c.retryFactor, 4);
    assert.equal(c.maxPayloadBytes, 262_144);
    assert.equal(c.encryptionKey, undefined);
    assert.equal(c.headerPrefix, 'x-nector');
  });

  it('internal settings have sane defaults', () => {
    const c = load();
    assert.ok(c.workerConcurrency >= 1);
    assert.ok(c.leaseMs > c.deliveryTimeoutMs);
    assert.equal(typeof c.logLevel, 'string');
  });

  it('every contract variable is a setting', () => {
    const envs = new Set(SETTINGS.map((s) => s.env));
    for (const v of [
      'HERALD_HOST', 'HERALD_PORT', 'HERALD_DATA_DIR', 'HERALD_DATABASE_URL', 'HERALD_ROLE', 'HERALD_ADMIN_KEY',
      'HERALD_ALLOW_PRIVATE_TARGETS', 'HERALD_DELIVERY_TIMEOUT_MS', 'HERALD_MAX_RETRIES', 'HERALD_RETRY_BASE_MS',
      'HERALD_RETRY_FACTOR', 'HERALD_MAX_PAYLOAD_BYTES', 'HERALD_ENCRYPTION_KEY', 'HERALD_HEADER_PREFIX',
    ]) {
      assert.ok(envs.has(v), v);
    }
  });
});

describe('environment', () => {
  it('parses every kind of value', () => {
    const c = load({
      HERALD_HOST: '0.0.0.0',
      HERALD_PORT: '9090',
      HERALD_DATA_DIR: '/var/lib/herald',
      HERALD_DATABASE_URL: 'postgres://u:p@db:5432/herald',
      HERALD_ROLE: 'worker',
      HERALD_ADMIN_KEY: 'hrd_admin_xyz',
      HERALD_ALLOW_PRIVATE_TARGETS: 'true',
      HERALD_DELIVERY_TIMEOUT_MS: '2500',
      HERALD_MAX_RETRIES: '0',
      HERALD_RETRY_BASE_MS: '1000',
      HERALD_RETRY_FACTOR: '2.5',
      HERALD_MAX_PAYLOAD_BYTES: '1048576',
      HERALD_ENCRYPTION_KEY: 'k3y',
      HERALD_HEADER_PREFIX: 'X-Acme',
      HERALD_WORKER_CONCURRENCY: '16',
      HERALD_LEASE_MS: '90000',
      HERALD_LOG_LEVEL: 'warn',
    });
    const expected: Partial<Config> = {
      host: '0.0.0.0',
      port: 9090,
      dataDir: '/var/lib/herald',
      databaseUrl: 'postgres://u:p@db:5432/herald',
      role: 'worker',
      adminKey: 'hrd_admin_xyz',
      allowPrivateTargets: true,
      deliveryTimeoutMs: 2500,
      maxRetries: 0,
      retryBaseMs: 1000,
      retryFactor: 2.5,
      maxPayloadBytes: 1_048_576,
      encryptionKey: 'k3y',
      headerPrefix: 'x-acme',
      workerConcurrency: 16,
      leaseMs: 90_000,
      logLevel: 'warn',
    };
    // Compared key by key: settings added later do not break this test.
    const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, c[k as keyof Config]]));
    assert.deepEqual(picked, expected);
  });

  it('reads the booleans people write', () => {
    for (const v of ['true', 'TRUE', '1', 'yes', 'on', ' True ']) {
      assert.equal(load({ HERALD_ALLOW_PRIVATE_TARGETS: v }).allowPrivateTargets, true, v);
    }
    for (const v of ['false', 'False', '0', 'no', 'off']) {
      assert.equal(load({ HERALD_ALLOW_PRIVATE_TARGETS: v }).allowPrivateTargets, false, v);
    }
  });

  it('all three roles', () => {
    for (const role of ['all', 'api', 'worker'] as const) assert.equal(load({ HERALD_ROLE: role }).role, role);
  });

  it('an empty optional text counts as unset', () => {
    const c = load({ HERALD_DATABASE_URL: '', HERALD_ADMIN_KEY: '', HERALD_ENCRYPTION_KEY: '' });
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.adminKey, undefined);
    assert.equal(c.encryptionKey, undefined);
  });

  it('ignores unrelated variables', () => {
    assert.deepEqual(load({ PORT: '1', HERALD_UNKNOWN: 'x' }), load());
  });

  it('port 0 (any free port) is allowed', () => {
    assert.equal(load({ HERALD_PORT: '0' }).port, 0);
  });
});

describe('flags', () => {
  it('override the environment', () => {
    const c = load(
      { HERALD_PORT: '9090', HERALD_ROLE: 'worker', HERALD_ALLOW_PRIVATE_TARGETS: 'false', HERALD_DELIVERY_TIMEOUT_MS: '2000' },
      { port: '7070', role: 'api', 'allow-private-targets': 'true', 'delivery-timeout-ms': '3000' },
    );
    assert.equal(c.port, 7070);
    assert.equal(c.role, 'api');
    assert.equal(c.allowPrivateTargets, true);
    assert.equal(c.deliveryTimeoutMs, 3000);
  });

  it('an undefined flag leaves the environment in charge', () => {
    assert.equal(load({ HERALD_PORT: '9090' }, { port: undefined }).port, 9090);
  });

  it('work without any environment', () => {
    const c = load({}, { 'header-prefix': 'x-acme', 'max-retries': '3', 'retry-base-ms': '100', 'retry-factor': '2' });
    assert.equal(c.headerPrefix, 'x-acme');
    assert.equal(c.maxRetries, 3);
    assert.equal(c.retryBaseMs, 100);
    assert.equal(c.retryFactor, 2);
  });

  it('explicit overrides beat flags and environment', () => {
    const c = load({ HERALD_PORT: '9090' }, { port: '7070' }, { port: 1234, role: 'worker' });
    assert.equal(c.port, 1234);
    assert.equal(c.role, 'worker');
  });
});

describe('bad values', () => {
  it('throw a ConfigError naming the variable', () => {
    throwsNaming(() => load({ HERALD_PORT: 'abc' }), 'HERALD_PORT');
    throwsNaming(() => load({ HERALD_PORT: '70000' }), 'HERALD_PORT');
    throwsNaming(() => load({ HERALD_PORT: '-1' }), 'HERALD_PORT');
    throwsNaming(() => load({ HERALD_PORT: '80.5' }), 'HERALD_PORT');
    throwsNaming(() => load({ HERALD_ROLE: 'boss' }), 'HERALD_ROLE');
    throwsNaming(() => load({ HERALD_ALLOW_PRIVATE_TARGETS: 'maybe' }), 'HERALD_ALLOW_PRIVATE_TARGETS');
    throwsNaming(() => load({ HERALD_DELIVERY_TIMEOUT_MS: '10s' }), 'HERALD_DELIVERY_TIMEOUT_MS');
    throwsNaming(() => load({ HERALD_MAX_RETRIES: '-1' }), 'HERALD_MAX_RETRIES');
    throwsNaming(() => load({ HERALD_RETRY_BASE_MS: 'soon' }), 'HERALD_RETRY_BASE_MS');
    throwsNaming(() => load({ HERALD_RETRY_FACTOR: 'x' }), 'HERALD_RETRY_FACTOR');
    throwsNaming(() => load({ HERALD_RETRY_FACTOR: '0.5' }), 'HERALD_RETRY_FACTOR');
    throwsNaming(() => load({ HERALD_MAX_PAYLOAD_BYTES: '1' }), 'HERALD_MAX_PAYLOAD_BYTES');
    throwsNaming(() => load({ HERALD_HEADER_PREFIX: 'x nector' }), 'HERALD_HEADER_PREFIX');
    throwsNaming(() => load({ HERALD_HEADER_PREFIX: '' }), 'HERALD_HEADER_PREFIX');
    throwsNaming(() => load({ HERALD_WORKER_CONCURRENCY: '0' }), 'HERALD_WORKER_CONCURRENCY');
  });

  it('the message quotes the bad value', () => {
    assert.throws(() => load({ HERALD_ROLE: 'boss' }), /"boss"/);
    assert.throws(() => load({ HERALD_PORT: 'abc' }), /"abc"/);
  });

  it('throw a ConfigError naming the flag when the flag is bad', () => {
    throwsNaming(() => load({}, { port: 'abc' }), '--port');
    throwsNaming(() => load({}, { role: 'boss' }), '--role');
    throwsNaming(() => load({}, { 'allow-private-targets': 'maybe' }), '--allow-private-targets');
    throwsNaming(() => load({}, { 'delivery-timeout-ms': 'fast' }), '--delivery-timeout-ms');
  });

  it('a bad flag is blamed even when the variable is fine, and vice versa', () => {
    throwsNaming(() => load({ HERALD_PORT: '8080' }, { port: 'abc' }), '--port');
    // A good flag hides a bad variable: the flag is what is used.
    assert.equal(load({ HERALD_PORT: 'abc' }, { port: '8081' }).port, 8081);
  });

  it('ConfigError is an Error', () => {
    assert.ok(new ConfigError('x') instanceof Error);
  });
});

describe('lease', () => {
  it('is pushed past the delivery timeout when it would be shorter', () => {
    const c = load({ HERALD_DELIVERY_TIMEOUT_MS: '120000', HERALD_LEASE_MS: '60000' });
    assert.ok(c.leaseMs > c.deliveryTimeoutMs);
  });
});

describe('flagName', () => {
  it('maps HERALD_SNAKE_CASE to kebab-case', () => {
    const byEnv = Object.fromEntries(SETTINGS.map((s) => [s.env, flagName(s)]));
    assert.equal(byEnv.HERALD_PORT, 'port');
    assert.equal(byEnv.HERALD_HOST, 'host');
    assert.equal(byEnv.HERALD_DATA_DIR, 'data-dir');
    assert.equal(byEnv.HERALD_DATABASE_URL, 'database-url');
    assert.equal(byEnv.HERALD_DELIVERY_TIMEOUT_MS, 'delivery-timeout-ms');
    assert.equal(byEnv.HERALD_ALLOW_PRIVATE_TARGETS, 'allow-private-targets');
    assert.equal(byEnv.HERALD_HEADER_PREFIX, 'header-prefix');
  });

  it('every setting has a distinct HERALD_ variable and flag', () => {
    const flags = SETTINGS.map(flagName);
    assert.equal(new Set(flags).size, SETTINGS.length);
    assert.equal(new Set(SETTINGS.map((s) => s.key)).size, SETTINGS.length);
    for (const s of SETTINGS) {
      assert.match(s.env, /^HERALD_[A-Z0-9_]+$/);
      assert.match(flagName(s), /^[a-z0-9]+(-[a-z0-9]+)*$/);
    }
  });
});

describe('the portal settings', () => {
  it('HERALD_PUBLIC_URL: an http(s) address, its trailing slash dropped; unset by default', () => {
    assert.equal(load().publicUrl, undefined);
    assert.equal(load({ HERALD_PUBLIC_URL: 'https://webhooks.example.com/' }).publicUrl, 'https://webhooks.example.com');
    assert.equal(load({ HERALD_PUBLIC_URL: 'http://10.0.0.5:8080' }).publicUrl, 'http://10.0.0.5:8080');
    for (const bad of ['webhooks.example.com', 'ftp://x.example', 'https://x.example/?a=1', 'https://user@x.example']) {
      assert.throws(() => load({ HERALD_PUBLIC_URL: bad }), (err: unknown) => err instanceof ConfigError && /HERALD_PUBLIC_URL/.test(err.message), bad);
    }
  });

  it('HERALD_FRAME_ANCESTORS: space-separated origins; anything else names the variable', () => {
    assert.deepEqual(load().frameAncestors, []);
    assert.deepEqual(load({ HERALD_FRAME_ANCESTORS: '  https://app.example.com  http://localhost:3000 https://*.shop.example ' }).frameAncestors,
      ['https://app.example.com', 'http://localhost:3000', 'https://*.shop.example']);
    for (const bad of ['app.example.com', 'https://app.example.com/dashboard', "'self'", '*', 'https://a.example;script-src', 'javascript:1']) {
      assert.throws(
        () => load({ HERALD_FRAME_ANCESTORS: `https://ok.example ${bad}` }),
        (err: unknown) => err instanceof ConfigError && err.message.includes('HERALD_FRAME_ANCESTORS') && err.message.includes(bad),
        bad,
      );
    }
  });
});
