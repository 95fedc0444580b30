import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { settingsHelp, settingsTable } from '../../../src/cli/settings-docs.ts';
import { describeSetting, parseSettingsArgs, resolveSettings, SETTINGS, SettingsError, type Setting } from '../../../src/cli/settings.ts';

describe('operator settings', () => {
  it('takes defaults, environment, then flags', () => {
    const settings = resolveSettings({ 'ses-rate-limit': '5' }, { AWS_REGION: 'eu-west-1', SES_OPERATOR_SES_RATE_LIMIT: '2', SES_OPERATOR_CONCURRENCY: '8' });
    expect(settings).toMatchObject({ region: 'eu-west-1', sesRateLimit: 5, concurrency: 8, dnsServers: [], recheckSlowMs: 3_600_000, logLevel: 'info' });
  });

  it('parses resolvers, durations and repeatable referrers', () => {
    const settings = resolveSettings(
      {
        region: 'us-east-1',
        'dns-servers': '127.0.0.1:5353, [::1]:53',
        'recheck-fast': '500ms',
        referrer: ['apps.example.com/v1/mailers:spec.sesSetupName', '/v1/configmaps:data.setup'],
      },
      {},
    );
    expect(settings.dnsServers).toEqual(['127.0.0.1:5353', '[::1]:53']);
    expect(settings.recheckFastMs).toBe(500);
    expect(settings.referrers).toEqual([
      { group: 'apps.example.com', version: 'v1', resource: 'mailers', fieldPath: 'spec.sesSetupName' },
      { group: '', version: 'v1', resource: 'configmaps', fieldPath: 'data.setup' },
    ]);
  });

  it('names every bad value in one error', () => {
    let error: unknown;
    try {
      resolveSettings(
        {
          region: 'Europe',
          'ses-rate-limit': '0',
          concurrency: 'many',
          'dns-servers': 'dns.google:53',
          'recheck-slow': 'soon',
          referrer: ['configmaps'],
          'log-level': 'loud',
        },
        {},
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SettingsError);
    const problems = (error as SettingsError).problems.join('\n');
    for (const flag of ['--region', '--ses-rate-limit', '--concurrency', '--dns-servers', '--recheck-slow', '--referrer', '--log-level']) {
      expect(problems).toContain(flag);
    }
  });

  it('requires a region', () => {
    expect(() => resolveSettings({}, {})).toThrow(/--region \(or AWS_REGION\) is required/);
  });

  it('serves the REST API only when asked, and plain HTTP only on loopback', () => {
    const off = resolveSettings({ region: 'us-east-1' }, {});
    expect(off).toMatchObject({ apiBindAddress: '0', apiRefreshTimeoutMs: 5_000 });
    expect(resolveSettings({ region: 'us-east-1', 'api-bind-address': '127.0.0.1:8443' }, {}).apiBindAddress).toBe('127.0.0.1:8443');
    expect(resolveSettings({ region: 'us-east-1', 'api-bind-address': '[::1]:0', 'api-refresh-timeout': '2s' }, {}).apiRefreshTimeoutMs).toBe(2_000);
    const tls = resolveSettings({ region: 'us-east-1', 'api-bind-address': ':8443', 'api-tls-cert-file': '/c', 'api-tls-key-file': '/k' }, {});
    expect(tls).toMatchObject({ apiTlsCertFile: '/c', apiTlsKeyFile: '/k' });
    for (const address of [':8443', '0.0.0.0:8443', '10.0.0.5:8443']) {
      expect(() => resolveSettings({ region: 'us-east-1', 'api-bind-address': address }, {})).toThrow(/is not a loopback address/);
    }
    expect(() => resolveSettings({ region: 'us-east-1', 'api-bind-address': ':8443', 'api-tls-key-file': '/k' }, {})).toThrow(/go together/);
    expect(() => resolveSettings({ region: 'us-east-1', 'api-refresh-timeout': '0s' }, {})).toThrow(/--api-refresh-timeout/);
  });
});

describe('settings rows', () => {
  it('--help and the README table show every row: flag, environment variable, default and help', () => {
    const help = settingsHelp();
    const table = settingsTable();
    for (const [name, row] of Object.entries(SETTINGS) as [string, Setting][]) {
      const described = describeSetting(row);
      expect(help).toContain(`--${name.padEnd(26)} ${described}${row.default ? ` (default ${row.default})` : ''}\n`);
      expect(help).toMatch(new RegExp(`--${name} .*\\n +env: ${row.env}(\\n|$)`));
      expect(table).toContain(`| \`--${name}\` | \`${row.env}\` | ${row.default ? `\`${row.default}\`` : ''} | ${described.replaceAll('|', '\\|')} |`);
    }
    expect(table.split('\n')).toHaveLength(Object.keys(SETTINGS).length + 2);
  });

  it('a new row appears in --help and in the README table alike, with what its kind and alias imply', () => {
    const rows: Record<string, Setting> = {
      'orphan-sweep': {
        field: 'orphanSweep',
        env: 'SES_OPERATOR_ORPHAN_SWEEP',
        default: '1h',
        help: 'how often to look for orphans',
        schema: () => z.string(),
      },
      'extra-kind': { field: 'extraKinds', env: 'SES_OPERATOR_EXTRA_KINDS', kind: 'list', help: 'another kind', schema: () => z.array(z.string()) },
      zone: { field: 'zone', env: 'ZONE', aliasEnv: 'DEFAULT_ZONE', help: 'the zone', schema: () => z.string() },
    };
    expect(settingsHelp(rows)).toContain(
      '--orphan-sweep               how often to look for orphans (default 1h)\n                               env: SES_OPERATOR_ORPHAN_SWEEP',
    );
    expect(settingsTable(rows)).toContain('| `--orphan-sweep` | `SES_OPERATOR_ORPHAN_SWEEP` | `1h` | how often to look for orphans |');
    expect(settingsHelp(rows)).toContain('another kind (repeatable; env: comma-separated)');
    expect(settingsTable(rows)).toContain('| `--extra-kind` | `SES_OPERATOR_EXTRA_KINDS` |  | another kind (repeatable; env: comma-separated) |');
    expect(settingsHelp(rows)).toContain('the zone (also DEFAULT_ZONE)');
    expect(settingsTable(rows)).toContain('| `--zone` | `ZONE` |  | the zone (also DEFAULT_ZONE) |');
  });

  it('parses the command line the rows declare: repeatable lists, bare and negated booleans, --help', () => {
    const { help, flags } = parseSettingsArgs([
      '--region',
      'eu-west-1',
      '--referrer',
      '/v1/configmaps:data.a',
      '--referrer',
      '/v1/secrets:data.b',
      '--leader-elect',
    ]);
    expect(help).toBe(false);
    expect(flags).toEqual({ region: 'eu-west-1', referrer: ['/v1/configmaps:data.a', '/v1/secrets:data.b'], 'leader-elect': 'true' });
    expect(parseSettingsArgs(['--no-leader-elect']).flags).toEqual({ 'leader-elect': 'false' });
    expect(parseSettingsArgs(['--help']).help).toBe(true);
    expect(() => parseSettingsArgs(['--no-such-flag'])).toThrow(/no-such-flag/);
    expect(() => parseSettingsArgs(['--region'])).toThrow(/--region/);
  });

  it('reads an alias environment variable only when the main one is unset', () => {
    expect(resolveSettings({}, { AWS_DEFAULT_REGION: 'eu-central-1' }).region).toBe('eu-central-1');
    expect(resolveSettings({}, { AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'eu-central-1' }).region).toBe('us-west-2');
    expect(resolveSettings({ region: 'ap-south-1' }, { AWS_REGION: 'us-west-2' }).region).toBe('ap-south-1');
  });

  it("--dns-endpoint-namespace defaults to the pod's namespace, has none without it, and must be a namespace name", () => {
    const region = { AWS_REGION: 'eu-west-1' };
    expect(resolveSettings({}, { ...region, POD_NAMESPACE: 'ses-operator' }).dnsEndpointNamespace).toBe('ses-operator');
    expect(resolveSettings({}, region).dnsEndpointNamespace).toBeUndefined();
    expect(resolveSettings({ 'dns-endpoint-namespace': 'dns' }, { ...region, POD_NAMESPACE: 'ses-operator' }).dnsEndpointNamespace).toBe('dns');
    expect(resolveSettings({}, { ...region, SES_OPERATOR_DNS_ENDPOINT_NAMESPACE: 'dns', POD_NAMESPACE: 'x' }).dnsEndpointNamespace).toBe('dns');
    expect(() => resolveSettings({ 'dns-endpoint-namespace': 'Not_A_Namespace' }, region)).toThrow(/--dns-endpoint-namespace must be a namespace name/);
  });

  it('treats an empty optional value as unset and splits list environment variables on commas', () => {
    const settings = resolveSettings(
      {},
      { AWS_REGION: 'eu-west-1', SES_OPERATOR_SES_ENDPOINT: '', POD_NAMESPACE: '', SES_OPERATOR_REFERRERS: '/v1/configmaps:data.a, /v1/secrets:data.b' },
    );
    expect(settings.sesEndpoint).toBeUndefined();
    expect(settings.leaderElectionNamespace).toBeUndefined();
    expect(settings.referrers.map((kind) => kind.resource)).toEqual(['configmaps', 'secrets']);
  });

  it('checks settings against each other after each is valid', () => {
    expect(() => resolveSettings({ 'leader-elect': 'true' }, { AWS_REGION: 'eu-west-1' })).toThrow(/--leader-elect needs --leader-election-namespace/);
    expect(() => resolveSettings({ 'renew-deadline': '20s' }, { AWS_REGION: 'eu-west-1' })).toThrow(/--renew-deadline must be shorter than --lease-duration/);
  });
});
