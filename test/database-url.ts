/** Tests use real PostgreSQL: DATABASE_URL (CI sets it), else the local server on 127.0.0.1:5432. */
export const TEST_DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
