# Closeloop worker and API image (docker-compose.yml runs it twice: `npm run worker` and `npm run api`).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    TEMPORAL_CLI_PATH=/bin/true
COPY package.json package-lock.json ./
# the compose file brings its own Temporal server: TEMPORAL_CLI_PATH=/bin/true skips the local CLI install
RUN npm install --no-audit --no-fund
COPY . .
EXPOSE 8080
CMD ["npm", "run", "api"]
