import { render, type VNode } from 'preact';

/**
 * Poll until `condition` returns a truthy value (or stops throwing), then
 * resolve with it. Fails after `timeoutMs` with the last error and the DOM.
 */
export async function waitFor<T>(
  condition: () => T | null | undefined | false,
  { timeoutMs = 2000, intervalMs = 10 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = condition();
      if (value) return value;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(
        `waitFor timed out after ${timeoutMs} ms${detail}\nDOM: ${document.body.innerHTML}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Render into a fresh container attached to <body>; returns helpers. */
export function mount(vnode: VNode) {
  const container = document.createElement('div');
  document.body.appendChild(container);
  render(vnode, container);
  return {
    container,
    byTestId(id: string): HTMLElement | null {
      return container.querySelector<HTMLElement>(`[data-testid="${id}"]`);
    },
    unmount() {
      render(null, container);
      container.remove();
    },
  };
}

/** Text of the element with this test id, trimmed; undefined if absent. */
export function textOf(container: HTMLElement, id: string): string | undefined {
  return container.querySelector(`[data-testid="${id}"]`)?.textContent?.trim();
}

/** A promise plus its resolve/reject, for holding a mocked command open. */
export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
