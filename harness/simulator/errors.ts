/**
 * An SES error as the SDK decodes it: the name travels in the `x-amzn-errortype` header (the
 * first place the REST-JSON protocol looks), the text in the body's `message`, and the HTTP
 * status must be the one the SDK's schema gives that error.
 */
export class SesApiError extends Error {
  readonly errorType: string;
  readonly status: number;
  /** What `x-amzn-errortype` carries: the type, for some errors followed by `:<namespace>`, which clients cut off. */
  readonly headerType: string;
  /** The body field holding the text: SES's own errors say `message`, AWS's authorization layer `Message`. */
  readonly messageField: 'message' | 'Message';

  constructor(errorType: string, status: number, message: string, wire: { headerType?: string; messageField?: 'message' | 'Message' } = {}) {
    super(message);
    this.name = errorType;
    this.errorType = errorType;
    this.status = status;
    this.headerType = wire.headerType ?? errorType;
    this.messageField = wire.messageField ?? 'message';
  }
}

export const badRequest = (message: string) => new SesApiError('BadRequestException', 400, message);
export const notFound = (message: string) => new SesApiError('NotFoundException', 404, message);
export const alreadyExists = (message: string) => new SesApiError('AlreadyExistsException', 400, message);
export const limitExceeded = (message: string) => new SesApiError('LimitExceededException', 400, message);
export const concurrentModification = (message: string) => new SesApiError('ConcurrentModificationException', 500, message);
export const tooManyRequests = (message = 'Rate exceeded') => new SesApiError('TooManyRequestsException', 429, message);
/**
 * IAM's refusal, which is not in the SES model: AWS's authorization layer answers it before SES
 * runs, with the coral namespace after the type and the text in `Message`.
 */
export const accessDenied = (message: string) =>
  new SesApiError('AccessDeniedException', 403, message, {
    headerType: 'AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/',
    messageField: 'Message',
  });
/** Not in the SES model: the SDK turns it into a generic 500, which its retry strategy treats as transient. */
export const internalFailure = (message = 'Injected internal failure') => new SesApiError('InternalFailure', 500, message);
export const unknownOperation = (method: string, path: string) => new SesApiError('UnknownOperationException', 404, `No SES operation for ${method} ${path}`);
