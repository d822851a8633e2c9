import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The published @herald/client: ES modules for `@herald/client` (the React face) and
 * `@herald/client/core` (no React), one stylesheet, source maps. React, socket.io-client and the shared
 * contracts stay imports, resolved by the host app (one React on the page). The stylesheet is a file of
 * its own and no module imports it, so importing the package in Node (server-side rendering) reads no CSS.
 */
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    minify: false,
    target: 'es2022',
    // public/ holds the service worker (herald-sw.js), shipped as a file next to the modules.
    copyPublicDir: true,
    lib: {
      entry: {
        index: fileURLToPath(new URL('src/notifications/index.ts', import.meta.url)),
        core: fileURLToPath(new URL('src/notifications/core/index.ts', import.meta.url)),
      },
      formats: ['es'],
      cssFileName: 'style',
    },
    rollupOptions: {
      external: [/^react(\/.*)?$/, /^react-dom(\/.*)?$/, /^socket\.io-client(\/.*)?$/, /^@herald\/shared(\/.*)?$/],
    },
  },
});
