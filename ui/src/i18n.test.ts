import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_LANG,
  dictionaries,
  errorMessage,
  LANG_STORAGE_KEY,
  loadLang,
  saveLang,
} from './i18n';

describe('dictionaries', () => {
  it('id and en have identical keys', () => {
    const idKeys = Object.keys(dictionaries.id).sort();
    const enKeys = Object.keys(dictionaries.en).sort();
    expect(enKeys).toEqual(idKeys);
    expect(idKeys.length).toBeGreaterThan(0);
  });

  it('has no empty strings in any language', () => {
    for (const [lang, messages] of Object.entries(dictionaries)) {
      for (const [key, value] of Object.entries(messages)) {
        expect(typeof value, `${lang}.${key}`).toBe('string');
        expect((value as string).trim(), `${lang}.${key}`).not.toBe('');
      }
    }
  });

  it('gives the required server_unreachable texts', () => {
    expect(errorMessage(dictionaries.id, 'server_unreachable')).toBe(
      'Server tidak dapat dihubungi. Periksa koneksi jaringan.',
    );
    expect(errorMessage(dictionaries.en, 'server_unreachable')).toBe(
      'The server cannot be reached. Check the network connection.',
    );
  });

  it('maps each known code to its own text and unknown codes to the fallback', () => {
    const m = dictionaries.id;
    expect(errorMessage(m, 'server_error')).toBe(m.errorServerError);
    expect(errorMessage(m, 'invalid_response')).toBe(m.errorInvalidResponse);
    expect(errorMessage(m, 'unknown')).toBe(m.errorUnknown);
    expect(errorMessage(m, 'something_new')).toBe(m.errorUnknown);
    // Inherited object properties are not codes.
    expect(errorMessage(m, 'toString')).toBe(m.errorUnknown);
  });
});

describe('language persistence', () => {
  afterEach(() => localStorage.clear());

  it('defaults to Bahasa Indonesia', () => {
    expect(DEFAULT_LANG).toBe('id');
    expect(loadLang()).toBe('id');
  });

  it('round-trips through localStorage', () => {
    saveLang('en');
    expect(localStorage.getItem(LANG_STORAGE_KEY)).toBe('en');
    expect(loadLang()).toBe('en');
  });

  it('ignores an unknown stored value', () => {
    localStorage.setItem(LANG_STORAGE_KEY, 'fr');
    expect(loadLang()).toBe('id');
  });
});
