import { useLayoutEffect, useRef } from 'preact/hooks';
import { fill } from '../i18n';
import { useMessages } from '../i18n-context';
import type { LabelPreview as Preview } from './api';
import './LabelPreview.css';

/**
 * The print preview of an asset's label: the label as the printer will get it (drawn from the
 * same page as the PDF), where it goes, and Print / Cancel. Enter prints, Escape cancels.
 */
export function LabelPreview({
  preview,
  busy,
  onPrint,
  onCancel,
}: {
  preview: Preview;
  busy: boolean;
  onPrint: () => void;
  onCancel: () => void;
}) {
  const t = useMessages();
  const print = useRef<HTMLButtonElement>(null);
  // Print has the focus whenever it can be pressed: Enter prints.
  useLayoutEffect(() => {
    if (!busy) print.current?.focus();
  }, [busy]);
  const image = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(preview.svg)}`;
  return (
    <figure
      class="label-preview"
      data-testid="label-preview"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel();
      }}
    >
      <img
        src={image}
        data-testid="label-preview-image"
        alt={fill(t.previewAlt, { plate: preview.plate })}
      />
      <figcaption>
        <span data-testid="label-preview-printer">
          {preview.printer ? fill(t.previewPrinter, { printer: preview.printer }) : t.previewDefaultPrinter}
        </span>
        <span class="muted"> · {fill(t.previewVersion, { n: preview.label_version })}</span>
      </figcaption>
      <div class="actions">
        <button
          type="button"
          class="btn btn-primary"
          data-testid="print-confirm"
          ref={print}
          disabled={busy}
          onClick={onPrint}
        >
          {busy ? t.printing : t.printNow}
        </button>
        <button type="button" class="btn" data-testid="preview-cancel" disabled={busy} onClick={onCancel}>
          {t.cancel}
        </button>
      </div>
    </figure>
  );
}
