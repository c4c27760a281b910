import { defineConfig } from 'vitest/config';

// Tauri serves ui/dist (see frontendDist in tauri.conf.json) and, in dev,
// expects the dev server on a fixed port.
export default defineConfig({
  base: './',
  clearScreen: false,
  esbuild: {
    jsx: 'automatic',
    jsxImportSource: 'preact',
  },
  server: {
    port: 1420,
    strictPort: true,
  },
  envPrefix: ['VITE_', 'TAURI_ENV_'],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // WebView2 (Windows) is Chromium ≥105; WebKitGTK / WKWebView handle es2021.
    target: ['es2021', 'chrome105', 'safari15'],
    sourcemap: false,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
  },
});
