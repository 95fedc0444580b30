import { describe, expect, it } from 'vitest';
import { SesApiError } from '../../../harness/simulator/errors.ts';
import { dkimToken, tenantId } from '../../../harness/simulator/ids.ts';
import { paginate } from '../../../harness/simulator/pagination.ts';
import {
  classifyEmailIdentity,
  validateMailFromDomain,
  validatePageSize,
  validateSuppressionAttributes,
  validateTags,
  validateTenantName,
} from '../../../harness/simulator/validation.ts';

function badRequestMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SesApiError);
    expect((error as SesApiError).errorType).toBe('BadRequestException');
    expect((error as SesApiError).status).toBe(400);
    return (error as SesApiError).message;
  }
  throw new Error('expected a BadRequestException');
}

describe('tenant names', () => {
  it.each(['a', 'A-b_C-9', 'x'.repeat(64)])('accepts %j', (name) => expect(validateTenantName(name)).toBe(name));
  it.each(['', 'x'.repeat(65), 'a b', 'a.b', 'a/b', 'é'])('refuses %j', (name) => {
    expect(badRequestMessage(() => validateTenantName(name))).toMatch(name === '' ? /TenantName is required/ : /Invalid TenantName/);
  });
  it('refuses a missing or non-string name', () => {
    expect(badRequestMessage(() => validateTenantName(undefined))).toBe('TenantName is required');
    expect(badRequestMessage(() => validateTenantName(42))).toBe('TenantName is required');
  });
});

describe('email identities', () => {
  it.each([
    ['example.com', 'DOMAIN'],
    ['mail.sub-domain.example.co.uk', 'DOMAIN'],
    ['xn--bcher-kva.example', 'DOMAIN'],
    ['user@example.com', 'EMAIL_ADDRESS'],
    ["o'hara+tag.x@mail.example.com", 'EMAIL_ADDRESS'],
  ])('classifies %j as %s', (name, type) => expect(classifyEmailIdentity(name)).toEqual({ name, type }));

  it.each([
    'localhost',
    'example.com.',
    '-lead.example.com',
    'trail-.example.com',
    'under_score.example.com',
    `${'a'.repeat(64)}.example.com`,
    'example.123',
    'two@@example.com',
    '@example.com',
    'user@',
    'user@localhost',
    'a..b@example.com',
    `${'a'.repeat(65)}@example.com`,
    'has space@example.com',
  ])('refuses %j', (name) => {
    expect(badRequestMessage(() => classifyEmailIdentity(name))).toBe(`Invalid email identity "${name}": expected a domain name or an email address`);
  });
});

describe('tags', () => {
  it('accepts the limits and defaults a missing value to ""', () => {
    expect(validateTags(undefined)).toEqual([]);
    expect(validateTags([{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }, { Key: 'empty' }])).toEqual([
      { Key: 'k'.repeat(128), Value: 'v'.repeat(256) },
      { Key: 'empty', Value: '' },
    ]);
    expect(validateTags(Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: '' })))).toHaveLength(50);
  });

  it.each([
    [[{ Key: '', Value: 'v' }], /Tag keys must be 1 to 128 characters/],
    [[{ Key: 'k'.repeat(129), Value: 'v' }], /Tag keys must be 1 to 128 characters/],
    [[{ Key: 'k', Value: 'v'.repeat(257) }], /longer than 256 characters/],
    [[{ Key: 'AWS:thing', Value: 'v' }], /reserved/],
    [
      [
        { Key: 'k', Value: 'a' },
        { Key: 'k', Value: 'b' },
      ],
      /Duplicate tag key "k"/,
    ],
    [Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: '' })), /at most 50/],
    [{ Key: 'k' }, /must be a list/],
    [[{ Key: 'k!', Value: 'v' }], /Tag keys may hold only letters, digits, white space and _ \. : \/ = \+ -/],
    [[{ Key: 'k', Value: 'a@b' }], /Tag value for "k" may hold only/],
    [[{ Key: 'k', Value: 'aws:x' }], /Tag values must not start with "aws:"/],
  ])('refuses %#', (tags, message) => {
    expect(badRequestMessage(() => validateTags(tags))).toMatch(message);
  });

  it('accepts Unicode letters and digits, white space and the documented symbols', () => {
    const tags = [{ Key: 'Ünïcode ٣ 漢字', Value: '_ . : / = + -\tx' }];
    expect(validateTags(tags)).toEqual(tags);
  });
});

describe('tenant SuppressionAttributes', () => {
  it('keeps what the enums allow and nothing else', () => {
    expect(validateSuppressionAttributes(undefined)).toBeUndefined();
    expect(validateSuppressionAttributes({})).toEqual({});
    expect(validateSuppressionAttributes({ SuppressedReasons: ['COMPLAINT'], SuppressionScope: 'ACCOUNT' })).toEqual({
      SuppressedReasons: ['COMPLAINT'],
      SuppressionScope: 'ACCOUNT',
    });
  });
  it.each([
    [{ SuppressedReasons: ['bounce'] }, /SuppressedReasons "bounce": expected one of BOUNCE, COMPLAINT/],
    [{ SuppressionScope: 'ORG' }, /SuppressionScope "ORG": expected one of TENANT, ACCOUNT/],
    [{ Extra: 1 }, /Unknown SuppressionAttributes field "Extra"/],
    [[], /must be an object/],
  ])('refuses %j', (value, message) => expect(badRequestMessage(() => validateSuppressionAttributes(value))).toMatch(message));
});

describe('MAIL FROM domains', () => {
  const domain = { name: 'Example.com', type: 'DOMAIN' as const };
  it("takes a subdomain of the domain (or of an address's domain), and empty as a reset", () => {
    expect(validateMailFromDomain('bounce.example.COM', domain)).toBe('bounce.example.COM');
    expect(validateMailFromDomain('a.b.example.com', domain)).toBe('a.b.example.com');
    expect(validateMailFromDomain('m.mail.example.org', { name: 'me@mail.example.org', type: 'EMAIL_ADDRESS' })).toBe('m.mail.example.org');
    expect(validateMailFromDomain('', domain)).toBeUndefined();
    expect(validateMailFromDomain(undefined, domain)).toBeUndefined();
  });
  it.each(['example.com', 'notexample.com', 'bounce.example.org', 'b_x.example.com', 'bounce.example.com.'])('refuses %j', (value) => {
    expect(badRequestMessage(() => validateMailFromDomain(value, domain))).toMatch(/Invalid MailFromDomain/);
  });
});

describe('page sizes', () => {
  const bounds = { min: 0, max: 1000, default: 100 };
  it('defaults a missing or zero PageSize and keeps others', () => {
    expect(validatePageSize(undefined, bounds)).toBe(100);
    expect(validatePageSize(0, bounds)).toBe(100);
    expect(validatePageSize(1000, bounds)).toBe(1000);
  });
  it.each([-1, 1001, 2.5, '10'])('refuses %j', (size) => {
    expect(badRequestMessage(() => validatePageSize(size, bounds))).toMatch(/PageSize must be a whole number from 0 to 1000/);
  });
});

describe('pagination', () => {
  const key = (name: string) => name;

  it('walks sorted pages and ends without a NextToken', () => {
    const items = ['c', 'a', 'b'];
    const first = paginate('Op', items, key, 2, undefined);
    expect(first.page).toEqual(['a', 'b']);
    const second = paginate('Op', items, key, 2, first.nextToken);
    expect(second).toEqual({ page: ['c'] });
  });

  it('neither skips nor repeats when items change between pages', () => {
    const first = paginate('Op', ['a', 'b', 'c', 'd'], key, 2, undefined);
    const second = paginate('Op', ['b', 'bb', 'c', 'd'], key, 2, first.nextToken);
    expect(second.page).toEqual(['bb', 'c']);
  });

  it('refuses a token of another operation or garbage', () => {
    const { nextToken } = paginate('Op', ['a', 'b'], key, 1, undefined);
    expect(badRequestMessage(() => paginate('Other', ['a', 'b'], key, 1, nextToken))).toBe('Invalid NextToken for Other');
    expect(badRequestMessage(() => paginate('Op', ['a'], key, 1, 'not-base64-json'))).toBe('Invalid NextToken for Op');
    expect(badRequestMessage(() => paginate('Op', ['a'], key, 1, ''))).toBe('Invalid NextToken for Op');
  });
});

describe('generated ids', () => {
  it('makes 32-character lower-case DKIM tokens and tn- tenant ids', () => {
    const tokens = Array.from({ length: 200 }, dkimToken);
    for (const token of tokens) expect(token).toMatch(/^[a-z0-9]{32}$/);
    expect(new Set(tokens).size).toBe(200);
    // Every one of the 36 characters turns up across 6,400 draws.
    expect(new Set(tokens.join('')).size).toBe(36);
    expect(tenantId()).toMatch(/^tn-[0-9a-f]{24}$/);
  });
});
