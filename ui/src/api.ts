/**
 * Typed wrappers around the Tauri commands. Components import from here and
 * never call `invoke` themselves.
 */
import { invoke } from '@tauri-apps/api/core';

/** One dependency check reported by the server (e.g. postgres, redis). */
export interface HealthCheck {
  name: string;
  ok: boolean;
}

/** Result of the `server_status` command (Rust field names, snake_case). */
export interface ServerStatus {
  server_url: string;
  version: string;
  api_version: number;
  ready: boolean;
  checks: HealthCheck[];
}

/**
 * Error a command rejects with. `code` is a stable snake_case identifier
 * (e.g. `server_unreachable`); `message` is English detail for support staff.
 */
export interface CommandError {
  code: string;
  message: string;
}

/** Code used when a rejection is not a `{ code, message }` object. */
export const UNKNOWN_ERROR_CODE = 'unknown';
/** Code used when a command resolves with data of the wrong shape. */
export const INVALID_RESPONSE_CODE = 'invalid_response';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function isCommandError(e: unknown): e is CommandError {
  return isRecord(e) && typeof e.code === 'string' && e.code !== '' && typeof e.message === 'string';
}

/**
 * Normalise anything a command may reject with into a `CommandError`:
 * objects with a string `code` keep it (a missing message becomes ''),
 * anything else (string, Error, null, …) becomes code `unknown`.
 */
export function toCommandError(e: unknown): CommandError {
  if (isCommandError(e)) return { code: e.code, message: e.message };
  if (isRecord(e) && typeof e.code === 'string' && e.code !== '') {
    return { code: e.code, message: typeof e.message === 'string' ? e.message : '' };
  }
  let message: string;
  if (e instanceof Error) message = e.message;
  else if (typeof e === 'string') message = e;
  else {
    try {
      message = JSON.stringify(e) ?? String(e);
    } catch {
      message = String(e);
    }
  }
  return { code: UNKNOWN_ERROR_CODE, message };
}

export function isServerStatus(value: unknown): value is ServerStatus {
  return (
    isRecord(value) &&
    typeof value.server_url === 'string' &&
    typeof value.version === 'string' &&
    typeof value.api_version === 'number' &&
    typeof value.ready === 'boolean' &&
    Array.isArray(value.checks) &&
    value.checks.every(
      (c: unknown) => isRecord(c) && typeof c.name === 'string' && typeof c.ok === 'boolean',
    )
  );
}

/**
 * Ask the backend for the server's health. Resolves with the status, or
 * rejects with a `CommandError` (always normalised, never a raw value).
 */
export async function serverStatus(): Promise<ServerStatus> {
  let result: unknown;
  try {
    result = await invoke<unknown>('server_status');
  } catch (e) {
    throw toCommandError(e);
  }
  if (!isServerStatus(result)) {
    throw {
      code: INVALID_RESPONSE_CODE,
      message: 'server_status returned data of an unexpected shape',
    } satisfies CommandError;
  }
  return result;
}
