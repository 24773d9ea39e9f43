// Reading one variable of the uploader's (or the CLI flag standing for it): trimmed, checked against its
// rule, and refused with one line naming the variable (EnvError).
import { InvalidValue } from './store.ts';
import type { UploaderVariable } from './uploader-variables.ts';

/** A variable (or the flag standing for it) with a value that breaks the contract. */
export class EnvError extends Error {
  readonly variable: UploaderVariable;
  constructor(variable: UploaderVariable, message: string) {
    super(`${variable} ${message}`);
    this.variable = variable;
  }
}

/** Reads a variable's value as given (undefined when unset). */
export type ValueSource = (variable: UploaderVariable) => string | undefined;

/** A value trimmed, undefined when unset or empty (for every variable but the prefix, where "" means none). */
export function value(get: ValueSource, variable: UploaderVariable): string | undefined {
  const v = get(variable)?.trim();
  return v === '' ? undefined : v;
}

export function checked<T>(variable: UploaderVariable, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof InvalidValue) throw new EnvError(variable, err.message);
    throw err;
  }
}

export function parseBoolean(get: ValueSource, variable: UploaderVariable, fallback: boolean): boolean {
  const v = value(get, variable);
  if (v === undefined) return fallback;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new EnvError(variable, `"${v}" must be true or false`);
}

export function parseNumber(
  get: ValueSource,
  variable: UploaderVariable,
  fallback: number,
  min: number,
  max: number,
  integer = false,
): number {
  const v = value(get, variable);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new EnvError(
      variable,
      `"${v}" must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
    );
  }
  return n;
}

export function parseChoice<T extends string>(
  get: ValueSource,
  variable: UploaderVariable,
  choices: readonly T[],
  fallback: T,
): T {
  const v = value(get, variable) ?? fallback;
  if (!(choices as readonly string[]).includes(v)) {
    throw new EnvError(variable, `"${v}" is not one of ${choices.join(', ')}`);
  }
  return v as T;
}

/** An integer setting without a default: `{ [key]: n }` when set, `{}` when not. */
export function optionalNumber<K extends string>(
  get: ValueSource,
  variable: UploaderVariable,
  key: K,
  min: number,
  max: number,
): { [k in K]?: number } {
  if (value(get, variable) === undefined) return {};
  return { [key]: parseNumber(get, variable, 0, min, max, true) } as { [k in K]?: number };
}
