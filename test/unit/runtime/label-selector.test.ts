import { describe, expect, it } from 'vitest';
import { labelSelectorSchema } from '../../../src/api/label-selector.ts';
import { formatLabelSelector, matchesLabelSelector, type LabelSelector } from '../../../src/runtime/label-selector.ts';

const billing = { team: 'billing', env: 'prod', 'kubernetes.io/metadata.name': 'billing' };

describe('label selector matching (metav1.LabelSelector)', () => {
  it('matchLabels: every pair must be present with that exact value', () => {
    expect(matchesLabelSelector({ matchLabels: { team: 'billing' } }, billing)).toBe(true);
    expect(matchesLabelSelector({ matchLabels: { team: 'billing', env: 'prod' } }, billing)).toBe(true);
    expect(matchesLabelSelector({ matchLabels: { team: 'billing', env: 'dev' } }, billing)).toBe(false);
    expect(matchesLabelSelector({ matchLabels: { team: 'Billing' } }, billing)).toBe(false);
    expect(matchesLabelSelector({ matchLabels: { owner: '' } }, billing)).toBe(false);
    expect(matchesLabelSelector({ matchLabels: { owner: '' } }, { owner: '' })).toBe(true);
  });

  it('In: the label is present with one of the values', () => {
    const selector: LabelSelector = { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'staging'] }] };
    expect(matchesLabelSelector(selector, billing)).toBe(true);
    expect(matchesLabelSelector(selector, { env: 'dev' })).toBe(false);
    expect(matchesLabelSelector(selector, {})).toBe(false);
  });

  it('NotIn: the label is absent or has none of the values (as in Kubernetes)', () => {
    const selector: LabelSelector = { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] };
    expect(matchesLabelSelector(selector, billing)).toBe(false);
    expect(matchesLabelSelector(selector, { env: 'dev' })).toBe(true);
    expect(matchesLabelSelector(selector, {})).toBe(true);
  });

  it('Exists and DoesNotExist look at the key only', () => {
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'team', operator: 'Exists' }] }, billing)).toBe(true);
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'team', operator: 'Exists' }] }, { team: '' })).toBe(true);
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'legacy', operator: 'Exists' }] }, billing)).toBe(false);
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'legacy', operator: 'DoesNotExist' }] }, billing)).toBe(true);
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, billing)).toBe(false);
  });

  it('every part must hold (AND), and an empty selector matches everything', () => {
    const selector: LabelSelector = {
      matchLabels: { team: 'billing' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod'] },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    };
    expect(matchesLabelSelector(selector, billing)).toBe(true);
    expect(matchesLabelSelector(selector, { ...billing, legacy: 'yes' })).toBe(false);
    expect(matchesLabelSelector(selector, { ...billing, team: 'shop' })).toBe(false);
    expect(matchesLabelSelector({}, {})).toBe(true);
    expect(matchesLabelSelector({ matchLabels: {}, matchExpressions: [] }, billing)).toBe(true);
  });

  it('does not match through inherited properties, and matches nothing for an operator the API server would refuse', () => {
    expect(matchesLabelSelector({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] }, {})).toBe(false);
    expect(matchesLabelSelector({ matchLabels: { constructor: 'x' } }, {})).toBe(false);
    const bogus = { matchExpressions: [{ key: 'team', operator: 'Gt', values: ['1'] }] } as unknown as LabelSelector;
    expect(matchesLabelSelector(bogus, billing)).toBe(false);
  });

  it("formats the selector in kubectl's -l syntax", () => {
    expect(
      formatLabelSelector({
        matchLabels: { team: 'billing', env: 'prod' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['gold', 'silver'] },
          { key: 'zone', operator: 'NotIn', values: ['b'] },
          { key: 'owner', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('env=prod,team=billing,tier in (gold,silver),zone notin (b),owner,!legacy');
    expect(formatLabelSelector({})).toBe('<everything>');
  });
});

describe('the LabelSelector schema (what the CRD also enforces)', () => {
  it('accepts selectors Kubernetes accepts', () => {
    for (const selector of [
      {},
      { matchLabels: { team: 'billing', 'example.com/tier': 'gold', empty: '' } },
      { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['billing', 'shop'] }] },
      { matchExpressions: [{ key: 'legacy', operator: 'DoesNotExist' }] },
    ]) {
      expect(labelSelectorSchema.safeParse(selector).success, JSON.stringify(selector)).toBe(true);
    }
  });

  it('refuses bad keys, bad values, unknown operators and unknown fields', () => {
    for (const selector of [
      { matchLabels: { 'bad key': 'x' } },
      { matchLabels: { team: 'not a value' } },
      { matchLabels: { team: 'x'.repeat(64) } },
      { matchExpressions: [{ key: '-team', operator: 'Exists' }] },
      { matchExpressions: [{ key: 'team', operator: 'Gt', values: ['1'] }] },
      { matchExpressions: [{ key: 'team', operator: 'In', values: ['ok'], extra: 1 }] },
      { matchFields: {} },
    ]) {
      expect(labelSelectorSchema.safeParse(selector).success, JSON.stringify(selector)).toBe(false);
    }
  });
});
