// Structured JSON logs on stdout (one object per line), the format log collectors in clusters expect.
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level = process.env.HEAPDUMP_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { component: 'heapdump-uploader' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
