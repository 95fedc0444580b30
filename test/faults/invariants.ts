import { OWNER_UID_TAG } from '../../src/api/group.ts';
import type { SesSetup } from '../../src/api/sessetup.ts';
import type { CallRecord } from '../../harness/simulator/call-log.ts';
import type { StateSnapshot } from '../../harness/simulator/state.ts';

/** What a live SesSetup should converge to. */
export type Expectation =
  /** tenant + identity + association in SES, records published by the scenario, Ready=True */
  | 'ready'
  /** tenant + identity + association in SES, the five records in status (not published, so not Ready) */
  | 'records'
  /** loses a tenantName/domainIdentity race: a conflict condition and nothing in SES */
  | 'conflict'
  /** its tenant belongs to someone else: TenantNotOwned, Stalled, nothing created */
  | 'tenant-not-owned'
  /** its identity belongs to someone else: IdentityNotOwned, Stalled; its own tenant exists, no association */
  | 'identity-not-owned';

export interface TrackedSetup {
  name: string;
  tenantName: string;
  domain: string;
  deletionPolicy: 'Delete' | 'Retain';
  expect: Expectation;
  /** The scenario publishes the records in DNS as soon as they appear in status. */
  publish: boolean;
  /** The region its SES resources must live in (spec.region, or the default of the operator that first saw it); the simulator's default region if unset. */
  region?: string;
  /** spec.region, when the setup names its region. */
  specRegion?: string;
  uid?: string;
  deleted: boolean;
}

/** A tenant or identity that exists in SES without the operator's tag: must never be deleted, changed or taken over. */
export interface ForeignResource {
  kind: 'tenant' | 'identity';
  name: string;
  tags: { Key: string; Value: string }[];
  /** It replaced one of ours at this call sequence number: earlier calls on the name were not on it. */
  sinceSeq?: number;
  /** Where it was made; the simulator's default region if unset. */
  region?: string;
}

export interface Verdict {
  objects: number;
  converged: number;
  leaked: number;
  duplicated: number;
  /** Why objects have not converged, what leaked, what was duplicated: for the log. */
  problems: string[];
  /** Invariant breaches that fail the scenario whatever the counts say. */
  violations: string[];
}

export interface InvariantInput {
  /** Names in SES and Kubernetes that belong to this scenario. */
  owns: { tenant(name: string): boolean; identity(name: string): boolean; setup(name: string): boolean };
  tracked: TrackedSetup[];
  foreign: ForeignResource[];
  /** Successful creates allowed per tenant/identity name (default 1). */
  allowedCreates: Map<string, number>;
  state: StateSnapshot;
  /** The simulator's call log since the scenario started. */
  calls: CallRecord[];
  /** The scenario's SesSetups as the API server has them now. */
  setups: SesSetup[];
}

const uidOf = (tags: { Key: string; Value: string }[]) => tags.find((tag) => tag.Key === OWNER_UID_TAG)?.Value;
const condition = (setup: SesSetup, type: string) => setup.status?.conditions?.find((c) => c.type === type);

/**
 * The fault suite's invariants, checked against the simulator's state and call log and the API server:
 * every live setup converged to what it asks for; SES holds exactly one tenant, identity and
 * association per live setup, none for setups deleted with Delete, all for those deleted with
 * Retain (anything else in SES is leaked); nothing created twice; nothing foreign deleted or changed.
 * SES regions are separate namespaces, so every name is checked in every region the simulator
 * holds: a setup's tenant in a region other than its own is leaked, not converged.
 */
export function checkInvariants(input: InvariantInput): Verdict {
  const problems: string[] = [];
  const violations: string[] = [];
  const tenants = input.state.tenants.filter((t) => input.owns.tenant(t.name));
  const identities = input.state.identities.filter((i) => input.owns.identity(i.name));
  const associations = input.state.associations.filter(
    (a) => input.owns.tenant(a.tenantName) || input.owns.identity(a.resourceArn.replace(/^.*:identity\//, '')),
  );
  const setups = new Map(input.setups.map((s) => [s.metadata.name, s]));
  const defaultRegion = input.state.region;
  const regionOf = (x: { region?: string }) => x.region ?? defaultRegion;
  /** One name in one region: the key every expectation, leak and duplicate is counted by. */
  const at = (region: string, name: string) => `${region}/${name}`;
  const foreignTenants = new Map(input.foreign.filter((f) => f.kind === 'tenant').map((f) => [at(regionOf(f), f.name), f]));
  const foreignIdentities = new Map(input.foreign.filter((f) => f.kind === 'identity').map((f) => [at(regionOf(f), f.name), f]));

  // What SES should hold: owner UID per tenant/identity name in its region, and the associations.
  const expectedTenants = new Map<string, string>();
  const expectedIdentities = new Map<string, string>();
  const expectedAssociations = new Set<string>();
  const association = (region: string, tenant: string, domain: string) => at(region, `${tenant} -> ${domain}`);
  const succeeded = (region: string, operation: string, target: string, arnEnd?: string) =>
    input.calls.some(
      (c) => c.status === 200 && c.region === region && c.operation === operation && c.target === target && (!arnEnd || c.resourceArn?.endsWith(arnEnd)),
    );
  for (const t of input.tracked) {
    const full = !t.deleted && (t.expect === 'ready' || t.expect === 'records');
    const region = regionOf(t);
    if (!t.uid) continue;
    if (t.deleted && t.deletionPolicy === 'Retain') {
      // Retain keeps whatever had been created when the setup was deleted (nothing, if it went before the operator acted).
      if (succeeded(region, 'CreateTenant', t.tenantName)) expectedTenants.set(at(region, t.tenantName), t.uid);
      if (succeeded(region, 'CreateEmailIdentity', t.domain)) expectedIdentities.set(at(region, t.domain), t.uid);
      if (succeeded(region, 'CreateTenantResourceAssociation', t.tenantName, `:identity/${t.domain}`))
        expectedAssociations.add(association(region, t.tenantName, t.domain));
    } else if (full) {
      expectedTenants.set(at(region, t.tenantName), t.uid);
      expectedIdentities.set(at(region, t.domain), t.uid);
      expectedAssociations.add(association(region, t.tenantName, t.domain));
    } else if (!t.deleted && t.expect === 'identity-not-owned') {
      expectedTenants.set(at(region, t.tenantName), t.uid);
    }
  }

  let converged = 0;
  for (const t of input.tracked) {
    const setup = setups.get(t.name);
    const why: string[] = [];
    if (t.deleted) {
      if (setup) why.push(`still present (finalizers ${JSON.stringify(setup.metadata.finalizers ?? [])})`);
    } else if (!setup) {
      why.push('missing from the API server');
    } else {
      if (t.uid && setup.metadata.uid !== t.uid) why.push('replaced by another object');
      if (setup.status?.observedGeneration !== setup.metadata.generation) why.push('status.observedGeneration behind');
      const ready = condition(setup, 'Ready');
      switch (t.expect) {
        case 'ready':
          if (ready?.status !== 'True' || setup.status?.dnsVerified !== true)
            why.push(`not Ready (${ready?.reason ?? 'no condition'}: ${ready?.message ?? ''})`);
          break;
        case 'records':
          if (setup.status?.dnsRecords?.length !== 5) why.push(`${setup.status?.dnsRecords?.length ?? 0} records in status`);
          if (condition(setup, 'TenantReady')?.status !== 'True' || condition(setup, 'IdentityReady')?.status !== 'True')
            why.push(`tenant/identity not ready (${ready?.reason}: ${ready?.message})`);
          break;
        case 'conflict':
          if (!['TenantNameConflict', 'DomainConflict'].includes(ready?.reason ?? '')) why.push(`no conflict condition (Ready: ${ready?.reason})`);
          break;
        case 'tenant-not-owned':
        case 'identity-not-owned': {
          const want = t.expect === 'tenant-not-owned' ? 'TenantNotOwned' : 'IdentityNotOwned';
          if (ready?.reason !== want || condition(setup, 'Stalled')?.status !== 'True') why.push(`Ready reason ${ready?.reason}, want ${want} and Stalled`);
          break;
        }
      }
    }
    // SES side of this setup, in its own region.
    const region = regionOf(t);
    if (setup?.status?.region !== undefined && setup.status.region !== region) why.push(`status.region ${setup.status.region}, want ${region}`);
    if (t.uid && expectedTenants.get(at(region, t.tenantName)) === t.uid) {
      const tenant = tenants.find((x) => x.name === t.tenantName && x.region === region);
      if (!tenant) why.push(`tenant ${t.tenantName} missing in SES ${region}`);
      else if (uidOf(tenant.tags) !== t.uid) why.push(`tenant ${t.tenantName} carries owner ${uidOf(tenant.tags) ?? 'none'}`);
    }
    if (t.uid && expectedIdentities.get(at(region, t.domain)) === t.uid) {
      const identity = identities.find((x) => x.name === t.domain && x.region === region);
      if (!identity) why.push(`identity ${t.domain} missing in SES ${region}`);
      else if (uidOf(identity.tags) !== t.uid) why.push(`identity ${t.domain} carries owner ${uidOf(identity.tags) ?? 'none'}`);
    }
    if (expectedAssociations.has(association(region, t.tenantName, t.domain))) {
      const links = associations.filter((a) => a.region === region && a.tenantName === t.tenantName && a.resourceArn.endsWith(`:identity/${t.domain}`));
      if (links.length !== 1) why.push(`${links.length} associations ${t.tenantName} -> ${t.domain} in ${region}`);
    }
    if (why.length === 0) converged++;
    else problems.push(`${t.name}: ${why.join('; ')}`);
  }

  // Leaks: anything of ours in SES nobody should hold any more.
  let leaked = 0;
  for (const tenant of tenants) {
    const key = at(tenant.region, tenant.name);
    if (foreignTenants.has(key)) continue;
    const want = expectedTenants.get(key);
    if (want === undefined || want !== uidOf(tenant.tags)) {
      leaked++;
      problems.push(`leaked tenant ${tenant.name} in ${tenant.region} (owner ${uidOf(tenant.tags) ?? 'none'})`);
    }
  }
  for (const identity of identities) {
    const key = at(identity.region, identity.name);
    if (foreignIdentities.has(key)) continue;
    const want = expectedIdentities.get(key);
    if (want === undefined || want !== uidOf(identity.tags)) {
      leaked++;
      problems.push(`leaked identity ${identity.name} in ${identity.region} (owner ${uidOf(identity.tags) ?? 'none'})`);
    }
  }
  const seenAssociations = new Map<string, number>();
  for (const a of associations) {
    const domain = a.resourceArn.replace(/^.*:identity\//, '');
    const key = association(a.region, a.tenantName, domain);
    seenAssociations.set(key, (seenAssociations.get(key) ?? 0) + 1);
    if (!expectedAssociations.has(key)) {
      leaked++;
      problems.push(`leaked association ${key}`);
      if (foreignTenants.has(at(a.region, a.tenantName)) || foreignIdentities.has(at(a.region, domain)))
        violations.push(`a foreign resource was associated: ${key}`);
    }
  }

  // Foreign resources: still there, tags untouched; never the target of a successful delete or tag call in their region.
  for (const f of input.foreign) {
    const region = regionOf(f);
    const found = (f.kind === 'tenant' ? input.state.tenants : input.state.identities).find((x) => x.name === f.name && x.region === region);
    if (!found) violations.push(`foreign ${f.kind} ${f.name} in ${region} was deleted`);
    else if (JSON.stringify(sortTags(found.tags)) !== JSON.stringify(sortTags(f.tags)))
      violations.push(`foreign ${f.kind} ${f.name} in ${region} was changed: tags ${JSON.stringify(found.tags)}`);
  }
  const foreignSince = new Map(input.foreign.map((f) => [at(regionOf(f), f.name), f.sinceSeq ?? 0]));
  for (const call of input.calls) {
    const key = call.target === undefined ? undefined : at(call.region, call.target);
    if (call.status !== 200 || !key || !foreignSince.has(key) || call.seq <= foreignSince.get(key)!) continue;
    if (/^(Delete|Tag|Untag)/.test(call.operation) || call.operation === 'CreateTenantResourceAssociation')
      violations.push(`${call.operation} succeeded on foreign ${call.target} in ${call.region}`);
  }

  // Duplicates: a second successful create of one name, or two live setups holding one tenant.
  let duplicated = 0;
  const creates = new Map<string, number>();
  for (const call of input.calls) {
    if (call.status !== 200 || !call.target) continue;
    if (call.operation !== 'CreateTenant' && call.operation !== 'CreateEmailIdentity') continue;
    if (!(input.owns.tenant(call.target) || input.owns.identity(call.target))) continue;
    // A name may exist once per region: creates are counted per region.
    const key = `${call.operation} ${call.region} ${call.target}`;
    creates.set(key, (creates.get(key) ?? 0) + 1);
  }
  for (const [key, count] of creates) {
    const allowed = input.allowedCreates.get(key.split(' ')[2]!) ?? 1;
    if (count > allowed) {
      duplicated += count - allowed;
      problems.push(`duplicated: ${key} succeeded ${count} times (allowed ${allowed})`);
    }
  }
  for (const [key, count] of seenAssociations) {
    if (count > 1) {
      duplicated += count - 1;
      problems.push(`duplicated association ${key} (${count})`);
    }
  }
  const holders = new Map<string, string[]>();
  for (const setup of input.setups) {
    if (condition(setup, 'TenantReady')?.status !== 'True' || setup.metadata.deletionTimestamp) continue;
    const key = at(setup.status?.region ?? defaultRegion, setup.spec.tenantName);
    const list = holders.get(key) ?? [];
    list.push(setup.metadata.name);
    holders.set(key, list);
  }
  for (const [tenant, names] of holders) {
    if (names.length > 1) {
      duplicated += names.length - 1;
      problems.push(`tenant ${tenant} reported ready by ${names.length} setups: ${names.join(', ')}`);
    }
  }
  return { objects: input.tracked.length, converged, leaked, duplicated, problems, violations };
}

function sortTags(tags: { Key: string; Value: string }[]) {
  return [...tags].sort((a, b) => a.Key.localeCompare(b.Key));
}
