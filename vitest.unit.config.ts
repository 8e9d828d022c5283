import { defineConfig } from 'vitest/config';

// `npm run test:unit`: the pure parts (conductor, language, expressions), with neither Temporal nor PostgreSQL.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    pool: 'threads',
    reporters: ['default'],
  },
});
