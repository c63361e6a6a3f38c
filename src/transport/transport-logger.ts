/**
 * The logging surface the transport needs: a pino-compatible subset, so the node passes its pino
 * logger (or a child of it) and tests pass nothing.
 */
export interface TransportLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** The default: per-request transport lines are debug-only anyway, so silence costs nothing. */
export const noopLogger: TransportLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
};
