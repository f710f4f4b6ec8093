import { Type, type Static } from '@sinclair/typebox';

/** One invalid field: a JSON pointer into the request (`/body/email`) and what is wrong with it. */
export interface FieldError {
  path: string;
  message: string;
}

/** RFC 9457 problem details, extended with our stable `code`, the request id and field errors. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    code: Type.String({ description: 'Stable MODULE_REASON code; branch on this, not on the text.' }),
    requestId: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', title: 'Problem', additionalProperties: false },
);
export type Problem = Static<typeof ProblemSchema>;

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const statusTitle = (status: number): string => titles[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');

/** Errors are values with codes: services throw these, the error handler renders them. */
export class AppError extends Error {
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;

  constructor(
    readonly status: number,
    readonly code: string,
    detail?: string,
    options: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? statusTitle(status));
    this.name = 'AppError';
    this.errors = options.errors;
    this.headers = options.headers;
  }
}

export const problemType = (code: string): string => `urn:lyceum:problem:${code.toLowerCase().replace(/_/g, '-')}`;

export function toProblem(error: AppError, requestId: string): Problem {
  return {
    type: problemType(error.code),
    title: statusTitle(error.status),
    status: error.status,
    detail: error.message,
    code: error.code,
    requestId,
    ...(error.errors?.length ? { errors: error.errors } : {}),
  };
}

/** Error codes that core itself answers with; modules list theirs in `<module>.errors.ts`. */
export const CoreErrors = {
  REQUEST_MALFORMED: 'REQUEST_MALFORMED',
  SESSION_REQUIRED: 'AUTH_SESSION_REQUIRED',
  URI_TOO_LONG: 'URI_TOO_LONG',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  AUTH_REQUIRED: 'AUTH_REQUIRED',
  AUTH_INVALID_TOKEN: 'AUTH_INVALID_TOKEN',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  CONFLICT: 'CONFLICT',
  PRECONDITION_FAILED: 'PRECONDITION_FAILED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  RATE_LIMITED: 'RATE_LIMITED',
  IDEMPOTENCY_KEY_INVALID: 'IDEMPOTENCY_KEY_INVALID',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  IDEMPOTENCY_IN_PROGRESS: 'IDEMPOTENCY_IN_PROGRESS',
  PAGINATION_INVALID_CURSOR: 'PAGINATION_INVALID_CURSOR',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;
