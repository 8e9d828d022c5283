# Closeloop worker and API image (docker-compose.yml runs it as `npm run worker` and `npm run api`).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# runtime dependencies only; no install scripts: the compose file brings its own Temporal server, so
# the local Temporal CLI, test server and API fuzzer that `npm install` fetches for developers are not needed
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY . .
EXPOSE 8080 9465
CMD ["npm", "run", "api"]
