/**
 * A service the configuration names (Redis) cannot be used at start. Like a ConfigError it is one
 * line for the operator rather than a stack trace; the CLI exits with 69 (EX_UNAVAILABLE).
 */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}
