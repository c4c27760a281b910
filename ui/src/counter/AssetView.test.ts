import { describe, expect, it } from 'vitest';
import { kilometres } from './AssetView';

describe('an odometer reading as typed', () => {
  it('takes whole kilometres with or without thousands grouping', () => {
    expect(kilometres('12345')).toBe(12345);
    expect(kilometres('12.345')).toBe(12345);
    expect(kilometres(' 12,345 ')).toBe(12345);
    expect(kilometres('1 234 567')).toBe(1234567);
  });

  it('refuses decimals, stray separators and text rather than guessing', () => {
    expect(kilometres('12345.6')).toBeNull();
    expect(kilometres('12.34')).toBeNull();
    expect(kilometres('1.2.3')).toBeNull();
    expect(kilometres('')).toBeNull();
    expect(kilometres('-5')).toBeNull();
    expect(kilometres('SR1:A:ABC')).toBeNull();
    expect(kilometres('99999999999')).toBeNull();
  });
});
