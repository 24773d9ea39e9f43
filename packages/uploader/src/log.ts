// Structured JSON logs on stdout (one object per line), the format log collectors in clusters expect.
import type { LogLevel } from '@kube-heapdump/contract';
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { component: 'heapdump-uploader' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
