# Closeloop worker and API image (docker-compose.yml runs it as workers/worker-only.ts and api/server-only.ts).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# runtime dependencies only; no install scripts: the compose file brings its own Temporal server, so
# the local Temporal CLI, test server and API fuzzer that `npm install` fetches for developers are not needed
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY . .
EXPOSE 8080 9465
# node as PID 1, so SIGTERM (drain) and SIGHUP (reload) reach the app
CMD ["node", "--import", "tsx", "api/server-only.ts"]
