# A single-node Tributary broker: Kafka's protocol on 9092, data in the /var/lib/tributary volume.
#   docker build -t tributary .
#   docker run -p 9092:9092 -v tributary-data:/var/lib/tributary tributary
# For other hosts than localhost, advertise the address clients reach:
#   docker run -p 9092:9092 tributary --override advertised.listeners=PLAINTEXT://broker.example:9092
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
# npm ci runs the package's prepare script: the TypeScript build.
RUN npm ci --no-audit --no-fund && npm pack --pack-destination /tmp

FROM node:20-bookworm-slim
RUN useradd --system --home-dir /var/lib/tributary tributary && mkdir -p /var/lib/tributary && chown tributary /var/lib/tributary
COPY --from=build /tmp/tributary-*.tgz /tmp/
RUN npm install --global --no-audit --no-fund /tmp/tributary-*.tgz && rm /tmp/tributary-*.tgz
USER tributary
VOLUME /var/lib/tributary
EXPOSE 9092
ENV TRIBUTARY_LOG_FORMAT=json
ENTRYPOINT ["tributary", "server", "--override", "log.dirs=/var/lib/tributary", "--override", "listeners=PLAINTEXT://0.0.0.0:9092", "--override", "advertised.listeners=PLAINTEXT://localhost:9092"]
