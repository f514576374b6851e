# The Space image: the server and its agents, run as the `node` user (uid 1000, as Spaces expect).
FROM node:22-bookworm-slim

WORKDIR /home/node/app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json app.ts ./
COPY src ./src
COPY agents ./agents

USER node
# Listen on every interface inside the container; require each caller's own HF token.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=7860 \
    FAST_AGENT_SERVE_OAUTH=huggingface
EXPOSE 7860
CMD ["npm", "start"]
