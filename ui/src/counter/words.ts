/**
 * The server's state names (booking and asset statuses, KYC status, membership tier) in the
 * UI's language. An unknown name (a newer server) is shown as it is rather than hidden.
 */
import type { Messages } from '../i18n';

const WORDS: Record<string, keyof Messages> = {
  PENDING_PAYMENT: 'statusPending',
  CONFIRMED: 'statusConfirmed',
  ACTIVE: 'statusActive',
  RETURNED: 'statusReturned',
  COMPLETED: 'statusCompleted',
  CANCELLED: 'statusCancelled',
  EXPIRED: 'statusExpired',
  NO_SHOW: 'statusNoShow',
  'asset:active': 'assetActive',
  'asset:maintenance': 'assetMaintenance',
  'asset:retired': 'assetRetired',
  'kyc:unverified': 'kycUnverified',
  'kyc:pending': 'kycPending',
  'kyc:verified': 'kycVerified',
  'kyc:rejected': 'kycRejected',
  'tier:regular': 'tierRegular',
  'tier:silver': 'tierSilver',
  'tier:gold': 'tierGold',
  'tier:platinum': 'tierPlatinum',
};

function word(t: Messages, key: string, raw: string): string {
  const found = Object.prototype.hasOwnProperty.call(WORDS, key) ? WORDS[key] : undefined;
  return found ? t[found] : raw;
}

/** A booking's status in words. */
export const bookingStatus = (t: Messages, status: string) => word(t, status, status);
/** An asset's status in words. */
export const assetStatus = (t: Messages, status: string) => word(t, `asset:${status}`, status);
/** A customer's KYC status in words. */
export const kycStatus = (t: Messages, status: string) => word(t, `kyc:${status}`, status);
/** A membership tier in words. */
export const tier = (t: Messages, name: string) => word(t, `tier:${name}`, name);
