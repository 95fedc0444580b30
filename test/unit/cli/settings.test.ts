import { describe, expect, it } from 'vitest';
import { resolveSettings, SettingsError } from '../../../src/cli/settings.ts';

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
