// Failures the CLI reports in a line or two, without a stack trace: what went wrong and what
// to do about it.

export class CliError extends Error {
  constructor(
    message: string,
    /** Further lines printed after the message (e.g. where the admin key is). */
    readonly notes: string[] = [],
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * A server that could not listen, as a CliError that names the address and says how to choose
 * another (`choose` e.g. "HERALD_PORT=8081 or --port 8081"); null for other errors.
 */
export function listenFailure(err: unknown, what: string, choose: (port: number) => string): CliError | null {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const where = e.address !== undefined && e.port !== undefined ? `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}` : 'its address';
  // A free-looking suggestion: the next port, or an unprivileged one for a privileged port.
  const other = e.port === undefined || e.port === 0 ? 8080 : e.port < 1024 ? e.port + 8000 : e.port + 1;
  switch (e.code) {
    case 'EADDRINUSE':
      return new CliError(`${what} cannot listen on ${where}: the port is already in use; choose another with ${choose(other)}`);
    case 'EACCES':
      return new CliError(`${what} cannot listen on ${where}: permission denied (ports below 1024 need privileges); choose another with ${choose(other)}`);
    case 'EADDRNOTAVAIL':
      return new CliError(`${what} cannot listen on ${where}: this machine has no such address (HERALD_HOST / --host)`);
    default:
      return null;
  }
}
