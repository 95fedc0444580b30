/**
 * An SES error as the SDK decodes it: the name travels in the `x-amzn-errortype` header (the
 * first place the REST-JSON protocol looks), the text in the body's `message`, and the HTTP
 * status must be the one the SDK's schema gives that error.
 */
export class SesApiError extends Error {
  readonly errorType: string;
  readonly status: number;

  constructor(errorType: string, status: number, message: string) {
    super(message);
    this.name = errorType;
    this.errorType = errorType;
    this.status = status;
  }
}

export const badRequest = (message: string) => new SesApiError('BadRequestException', 400, message);
export const notFound = (message: string) => new SesApiError('NotFoundException', 404, message);
export const alreadyExists = (message: string) => new SesApiError('AlreadyExistsException', 400, message);
export const limitExceeded = (message: string) => new SesApiError('LimitExceededException', 400, message);
export const tooManyRequests = (message = 'Rate exceeded') => new SesApiError('TooManyRequestsException', 429, message);
/** Not in the SES model: the SDK turns it into a generic 500, which its retry strategy treats as transient. */
export const internalFailure = (message = 'Injected internal failure') => new SesApiError('InternalFailure', 500, message);
export const unknownOperation = (method: string, path: string) => new SesApiError('UnknownOperationException', 404, `No SES operation for ${method} ${path}`);
