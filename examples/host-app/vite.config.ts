import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The host's API, and Herald mounted in it at /herald, are on the Express server (PORT, 4000 by default):
// `npm run dev` serves this page on 5173 and passes those calls (and Herald's websocket) through.
const server = `http://localhost:${process.env.PORT ?? 4000}`;

// https://vite.dev/config/
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': server,
      '/herald': { target: server, ws: true },
    },
  },
});
