import { describe, expect, it } from 'vitest';
import { ErrorRules, parseErrorRule } from '../../../harness/simulator/error-rules.ts';
import { InvalidFaultsError } from '../../../harness/simulator/faults.ts';

const OPERATIONS = ['GetTenant', 'TagResource'];
const call = (extra: Partial<{ operation: string; region: string; target: string; resourceArn: string }> = {}) => ({
  operation: 'GetTenant',
  region: 'us-east-1',
  ...extra,
});

describe('ErrorRules', () => {
  it('fails matching calls with the modeled error and status until cleared', () => {
    const rules = new ErrorRules();
    const rule = rules.add({ operation: 'GetTenant', error: 'ConcurrentModificationException' });
    expect(rules.pick(call({ operation: 'TagResource' }))).toBeUndefined();
    for (let i = 0; i < 3; i++) expect(rules.pick(call())).toMatchObject({ errorType: 'ConcurrentModificationException', status: 500 });
    expect(rules.list()).toEqual([{ ...rule, hits: 3 }]);
    expect(rules.clear(rule.id)).toBe(1);
    expect(rules.pick(call())).toBeUndefined();
  });

  it('counts down and forgets a rule with a count', () => {
    const rules = new ErrorRules();
    rules.add({ operation: 'GetTenant', error: 'NotFoundException', count: 2 });
    expect(rules.pick(call())).toMatchObject({ errorType: 'NotFoundException', status: 404 });
    expect(rules.list()[0]).toMatchObject({ remaining: 1, hits: 1 });
    expect(rules.pick(call())).toMatchObject({ errorType: 'NotFoundException' });
    expect(rules.pick(call())).toBeUndefined();
    expect(rules.list()).toEqual([]);
  });

  it('matches a resource by name (any case) or ARN, and a region', () => {
    const rules = new ErrorRules();
    rules.add({ operation: 'TagResource', error: 'AccessDeniedException', resource: 'arn:aws:ses:eu-west-1:123456789012:tenant/acme/tn-1' });
    rules.add({ operation: 'GetTenant', error: 'LimitExceededException', resource: 'Shop', region: 'eu-west-1', message: 'custom' });
    expect(rules.pick(call({ operation: 'TagResource', target: 'acme', resourceArn: 'arn:aws:ses:eu-west-1:123456789012:tenant/acme/tn-1' }))).toMatchObject({
      errorType: 'AccessDeniedException',
      status: 403,
      headerType: 'AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/',
      messageField: 'Message',
    });
    expect(rules.pick(call({ operation: 'TagResource', target: 'other' }))).toBeUndefined();
    expect(rules.pick(call({ target: 'shop' }))).toBeUndefined(); // us-east-1
    expect(rules.pick(call({ target: 'shop', region: 'eu-west-1' }))).toMatchObject({ errorType: 'LimitExceededException', status: 400, message: 'custom' });
  });

  it('names the action and resource in the AccessDenied text as IAM does', () => {
    const rules = new ErrorRules();
    rules.add({ operation: 'GetTenant', error: 'AccessDeniedException' });
    expect(rules.pick(call({ target: 'mail.example.com', operation: 'GetTenant' }))?.message).toBe(
      'User: arn:aws:iam::123456789012:user/ses-simulator is not authorized to perform: ses:GetTenant on resource: ' +
        'arn:aws:ses:us-east-1:123456789012:identity/mail.example.com because no identity-based policy allows the ses:GetTenant action',
    );
    expect(rules.pick(call())?.message).toContain('on resource: arn:aws:ses:us-east-1:123456789012:*');
  });
});

describe('parseErrorRule', () => {
  it('reads a full rule', () => {
    expect(
      parseErrorRule({ operation: 'GetTenant', error: 'NotFoundException', resource: 'a', region: 'eu-west-1', count: 1, message: 'm' }, OPERATIONS),
    ).toEqual({
      operation: 'GetTenant',
      error: 'NotFoundException',
      resource: 'a',
      region: 'eu-west-1',
      count: 1,
      message: 'm',
    });
  });
  it.each([
    [null, /must be a JSON object/],
    [{ operation: 'Nope', error: 'NotFoundException' }, /operation must be one of GetTenant, TagResource/],
    [{ operation: 'GetTenant' }, /error must be one of/],
    [{ operation: 'GetTenant', error: 'NotFoundException', count: 1.5 }, /count must be a whole number >= 1/],
    [{ operation: 'GetTenant', error: 'NotFoundException', region: 3 }, /region must be a non-empty string/],
  ])('refuses %j', (input, message) => {
    expect(() => parseErrorRule(input, OPERATIONS)).toThrow(InvalidFaultsError);
    expect(() => parseErrorRule(input, OPERATIONS)).toThrow(message);
  });
});
