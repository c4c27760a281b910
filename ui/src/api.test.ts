import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import { isCommandError, serverStatus, toCommandError } from './api';
import { SAMPLE_STATUS } from './fixtures';

afterEach(() => clearMocks());

describe('isCommandError / toCommandError', () => {
  it('recognises a full command error', () => {
    expect(isCommandError({ code: 'server_error', message: 'boom' })).toBe(true);
  });

  it('rejects non-errors', () => {
    for (const v of [null, undefined, 'x', 42, new Error('x'), {}, { code: 1, message: 'x' }]) {
      expect(isCommandError(v)).toBe(false);
    }
  });

  it('keeps the code of an object without message', () => {
    expect(toCommandError({ code: 'server_unreachable' })).toEqual({
      code: 'server_unreachable',
      message: '',
    });
  });

  it('turns strings and Errors into code unknown', () => {
    expect(toCommandError('network down')).toEqual({ code: 'unknown', message: 'network down' });
    expect(toCommandError(new TypeError('bad'))).toEqual({ code: 'unknown', message: 'bad' });
    expect(toCommandError(null).code).toBe('unknown');
  });
});

describe('serverStatus', () => {
  it('invokes server_status without arguments and returns the payload', async () => {
    const calls: Array<[string, unknown]> = [];
    mockIPC((cmd, payload) => {
      calls.push([cmd, payload]);
      return SAMPLE_STATUS;
    });
    await expect(serverStatus()).resolves.toEqual(SAMPLE_STATUS);
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBe('server_status');
    expect(calls[0]![1] ?? {}).toEqual({});
  });

  it('rejects with the command error unchanged', async () => {
    mockIPC(() => Promise.reject({ code: 'server_error', message: 'HTTP 500' }));
    await expect(serverStatus()).rejects.toEqual({ code: 'server_error', message: 'HTTP 500' });
  });

  it('normalises a plain string rejection to code unknown', async () => {
    mockIPC(() => {
      throw 'something odd';
    });
    await expect(serverStatus()).rejects.toEqual({ code: 'unknown', message: 'something odd' });
  });

  it('rejects a malformed payload as invalid_response', async () => {
    mockIPC(() => ({ serverUrl: 'http://x', version: 1 }));
    await expect(serverStatus()).rejects.toMatchObject({ code: 'invalid_response' });
  });
});
