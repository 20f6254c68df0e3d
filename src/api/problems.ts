// Errors as application/problem+json (RFC 9457): {type, title, status, detail, errors?}.

export interface FieldError {
  path: string;
  message: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** An error that the API answers as it is; anything else is a 500. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: FieldError[],
    /** A problem type more precise than the status's, e.g. urn:herald:problem:portal-link-used. */
    readonly type?: string,
  ) {
    super(message);
  }
}

export function badInput(path: string, message: string): HttpError {
  return new HttpError(400, `${path}: ${message}`, [{ path, message }]);
}

export function notFound(what: string): HttpError {
  return new HttpError(404, `${what} not found`);
}

export function problem(status: number, detail: string, errors?: FieldError[], type?: string) {
  const title = TITLES[status] ?? 'Error';
  return {
    type: type ?? `urn:herald:problem:${title.toLowerCase().replace(/\s+/g, '-')}`,
    title,
    status,
    detail,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

/** "/events/3/data" → "events[3].data" */
export function pointerToPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}
