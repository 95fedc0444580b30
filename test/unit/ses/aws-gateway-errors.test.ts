import type { RequestListener } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsSesGateway } from '../../../src/ses/aws-gateway.ts';
import { SesError } from '../../../src/ses/gateway.ts';
import { RateLimiter } from '../../../src/ses/rate-limiter.ts';
import { startLoopbackHttp, type LoopbackHttp } from '../../support/loopback-http.ts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** An SES endpoint answering every request with one error, in AWS's wire shape (type in x-amzn-errortype), unless a test sets its own handler. */
let server: LoopbackHttp;
let endpoint: string;
let answer: { status: number; type: string; body: object };
let requests: number;
let handler: RequestListener | undefined;
beforeEach(async () => {
  requests = 0;
  handler = undefined;
  server = await startLoopbackHttp((request, response) => {
    if (handler) return void handler(request, response);
    requests++;
    request.resume();
    response.writeHead(answer.status, { 'content-type': 'application/json', 'x-amzn-errortype': answer.type });
    response.end(JSON.stringify(answer.body));
  });
  endpoint = server.url;
});
afterEach(() => server.close());

const gateway = () => new AwsSesGateway({ rateLimiter: new RateLimiter({ ratePerSecond: 1000, burst: 100 }), endpoint, credentials, maxAttempts: 2 });

async function failure(call: Promise<unknown>): Promise<SesError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SesError);
  return error as SesError;
}

describe("AwsSesGateway: SES errors in the reconciler's terms", () => {
  it('AccessDeniedException (IAM, 403) is AccessDenied, names the operation, is not retried by the SDK, and asks for no queue delay', async () => {
    answer = {
      status: 403,
      type: 'AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/',
      body: { Message: 'User: arn:aws:iam::123456789012:user/x is not authorized to perform: ses:GetTenant' },
    };
    const error = await failure(gateway().getTenant('eu-west-1', 'acme'));
    expect(error.kind).toBe('AccessDenied');
    expect(error.operation).toBe('GetTenant');
    expect(error.message).toContain('not authorized to perform: ses:GetTenant');
    expect(error.retryAfterMs).toBeUndefined();
    expect(requests).toBe(1);
  });

  it('ConcurrentModificationException (500) is retried by the SDK, then ConcurrentModification with a short retry delay', async () => {
    answer = { status: 500, type: 'ConcurrentModificationException', body: { message: 'The resource is being modified by another operation or thread.' } };
    const error = await failure(gateway().createTenant('eu-west-1', 'acme', {}));
    expect(error.kind).toBe('ConcurrentModification');
    expect(error.retryAfterMs).toBe(2_000);
    expect(requests).toBe(2);
  });

  it('ListResourceTenants pages through every tenant of a resource, and a missing resource has none', async () => {
    const pages = [{ ResourceTenants: [{ TenantName: 'a' }], NextToken: 'p2' }, { ResourceTenants: [{ TenantName: 'b' }] }];
    const bodies: string[] = [];
    handler = (request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        bodies.push(body);
        const page = pages.shift();
        if (!page) {
          response.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'NotFoundException' });
          response.end(JSON.stringify({ message: 'no such resource' }));
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(page));
      });
    };
    const arn = 'arn:aws:ses:eu-west-1:123456789012:identity/example.test';
    expect(await gateway().listResourceTenants('eu-west-1', arn)).toEqual(['a', 'b']);
    expect(JSON.parse(bodies[1]!)).toMatchObject({ ResourceArn: arn, NextToken: 'p2' });
    expect(await gateway().listResourceTenants('eu-west-1', arn)).toEqual([]);
  });
});

describe("AwsSesGateway: GetEmailIdentity's VerificationInfo", () => {
  it('gives when SES last checked and last found the records, in ms, fractions of a second kept', async () => {
    answer = {
      status: 200,
      type: '',
      body: {
        DkimAttributes: { Status: 'SUCCESS', Tokens: ['t1'] },
        VerificationStatus: 'SUCCESS',
        VerificationInfo: { LastCheckedTimestamp: 1764500000.125, LastSuccessTimestamp: 1764499990.5 },
      },
    };
    const identity = await gateway().getEmailIdentity('eu-west-1', 'example.com');
    expect(identity?.lastCheckedAt).toBe(1764500000125);
    expect(identity?.lastSuccessAt).toBe(1764499990500);
    answer = { status: 200, type: '', body: { DkimAttributes: { Status: 'PENDING', Tokens: ['t1'] } } };
    const fresh = await gateway().getEmailIdentity('eu-west-1', 'example.com');
    expect(fresh).not.toHaveProperty('lastCheckedAt');
    expect(fresh).not.toHaveProperty('lastSuccessAt');
  });
});
