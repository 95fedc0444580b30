import { SesError } from '../../../ses/gateway.ts';
import { sameMailFrom } from '../mail-from.ts';
import type { Step } from '../step.ts';
import { identityMissing } from './identity-missing.ts';
import { pendingVerifyRequest } from './verify-request.ts';

/**
 * spec.mailFrom set on the SES identity: one PutEmailIdentityMailFromAttributes when it differs
 * from what status records as set (none in the steady state); removing spec.mailFrom resets SES
 * to its default MAIL FROM. SES's verdict is read by the dns step's GetEmailIdentity.
 */
export const mailFromStep: Step = {
  name: 'mailFrom',
  async run({ setup, spec, region, facts, log, sesCall }, { ses }) {
    const want = spec.mailFrom;
    const have = facts.mailFrom;
    // FAILED is final in SES: a verify request sets the domain anew, so that SES checks it again.
    const restart = want !== undefined && have?.status === 'FAILED' && pendingVerifyRequest(setup, facts) !== undefined;
    if (sameMailFrom(want, have) && !restart) return {};
    const identity = spec.domainIdentity;
    try {
      if (!want) {
        await ses.putMailFromAttributes(region, identity, undefined, sesCall);
        log.info({ mailFrom: have?.domain }, 'MAIL FROM domain removed');
        const message = `custom MAIL FROM domain ${have?.domain} removed from SES identity ${identity}; SES sends with its default MAIL FROM`;
        return { learned: { mailFrom: undefined }, happened: [{ type: 'Normal', reason: 'MailFromRemoved', message }] };
      }
      if (restart) await ses.putMailFromAttributes(region, identity, undefined, sesCall);
      await ses.putMailFromAttributes(region, identity, want, sesCall);
    } catch (error) {
      if (error instanceof SesError && error.kind === 'NotFound') return identityMissing(spec, log);
      throw error;
    }
    log.info({ mailFrom: want.domain, restart }, 'MAIL FROM domain set');
    // The same domain keeps SES's verification; a new one, or one set anew, is read afresh by the dns step.
    const keep = have?.domain === want.domain && have.status && !restart ? { status: have.status } : {};
    const message = `MAIL FROM domain ${want.domain} (behaviorOnMxFailure ${want.behaviorOnMxFailure}) set on SES identity ${identity}`;
    return {
      learned: { mailFrom: { domain: want.domain, behaviorOnMxFailure: want.behaviorOnMxFailure, ...keep } },
      happened: [{ type: 'Normal', reason: 'MailFromSet', message }],
    };
  },
};
