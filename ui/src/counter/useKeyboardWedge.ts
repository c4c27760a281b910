import { useEffect } from 'preact/hooks';

/** Keys closer together than this are a scanner typing, not a person. */
const MAX_GAP_MS = 60;
/** Shorter bursts are typing. */
const MIN_LENGTH = 4;
/** What a scanner types that no one types into a field: our codes and verify links. */
const LOOKS_LIKE_CODE = /^(SR\d:|https?:\/\/)/i;

type TextField = HTMLInputElement | HTMLTextAreaElement;

function textField(target: EventTarget | null): TextField | null {
  return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ? target : null;
}

/**
 * A keyboard-wedge scanner types its code and presses Enter, faster than any person. Outside
 * text fields, such a burst is handed to `onScan`. In the scan box (marked `data-scan-box`) the
 * box's own Enter handling takes it. In any other field (an odometer, a search), a burst that is
 * one of our codes is taken out of the field again and handed to `onScan`: a scan never ends up
 * typed into the wrong place.
 */
export function useKeyboardWedge(onScan: (text: string) => void) {
  useEffect(() => {
    let buffer = '';
    let last = 0;
    // The field's value before the burst started (keydown comes before the key is typed).
    let before: { field: TextField; value: string } | null = null;
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (target?.tagName === 'SELECT') return;
      const field = textField(e.target);
      if (field && field.dataset.scanBox !== undefined) return;
      const now = e.timeStamp || Date.now();
      if (now - last > MAX_GAP_MS) {
        buffer = '';
        before = field ? { field, value: field.value } : null;
      }
      last = now;
      if (e.key === 'Enter') {
        if (buffer.length >= MIN_LENGTH && (!field || LOOKS_LIKE_CODE.test(buffer))) {
          e.preventDefault();
          if (field && before?.field === field) {
            field.value = before.value;
            field.dispatchEvent(new Event('input', { bubbles: true }));
          }
          onScan(buffer);
        }
        buffer = '';
      } else if (e.key.length === 1) {
        buffer += e.key;
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onScan]);
}
