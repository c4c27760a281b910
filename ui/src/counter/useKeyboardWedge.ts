import { useEffect } from 'preact/hooks';

/** Keys closer together than this are a scanner typing, not a person. */
const MAX_GAP_MS = 60;
/** Shorter bursts are typing. */
const MIN_LENGTH = 4;

/**
 * A keyboard-wedge scanner types its code and presses Enter, faster than any
 * person. Outside text fields, such a burst is handed to `onScan`; inside a
 * field, the field's own Enter handling takes it (the scan box).
 */
export function useKeyboardWedge(onScan: (text: string) => void) {
  useEffect(() => {
    let buffer = '';
    let last = 0;
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (target && ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)) return;
      const now = e.timeStamp || Date.now();
      if (now - last > MAX_GAP_MS) buffer = '';
      last = now;
      if (e.key === 'Enter') {
        if (buffer.length >= MIN_LENGTH) {
          e.preventDefault();
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
