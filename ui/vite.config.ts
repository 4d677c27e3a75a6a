import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

// Root is ui/; the root package.json scripts pass `--config ui/vite.config.ts`.
export default defineConfig({
  root,
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2500,
  },
  server: {
    // `npm run dev` talks to a runner on another origin: enter its URL on the login screen
    // (the runner must allow CORS), or proxy /api here by setting POLDER_RUNNER.
    proxy: process.env.POLDER_RUNNER
      ? { '/api': { target: process.env.POLDER_RUNNER, changeOrigin: true } }
      : undefined,
  },
  test: {
    root,
    // Component tests (*.test.tsx) render with react-dom/server in Node: no DOM needed.
    include: ['src/**/*.test.{ts,tsx}'],
    environment: 'node',
  },
});
