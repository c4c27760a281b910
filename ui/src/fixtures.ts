import type { ServerStatus } from './api';

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
export { SIGNED_OUT } from './counter/api';
