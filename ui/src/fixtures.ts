import type { ServerStatus } from './api';
import type { CounterState } from './counter/api';

/** The example payload of the `server_status` command. */
export const SAMPLE_STATUS: ServerStatus = {
  server_url: 'http://127.0.0.1:8080',
  version: '0.1.0',
  api_version: 1,
  ready: true,
  checks: [
    { name: 'postgres', ok: true },
    { name: 'redis', ok: false },
  ],
};

/** `app_state` with nobody signed in. */
export const SIGNED_OUT: CounterState = {
  signed_in: null,
  offline_session: false,
  branch: null,
  login_reason: null,
  keychain_problem: null,
  pending: 0,
  unsettled: 0,
};
