# cutover: multi-stage build, small non-root runtime image.
#   docker build -t cutover .
#   docker run -p 8080:8080 -p 9090:9090 -v $PWD/deploy:/etc/cutover:ro \
#     -e NEXTAUTH_SECRET -e CUTOVER_IDENTITY_KEY -e CHATBOT_JWT_SECRET cutover
# Config is read from /etc/cutover/routes.toml (+ /etc/cutover/flags/*.toml):
# mount a ConfigMap there; flag edits hot-reload, `..data` swaps included.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends cmake && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY vendor ./vendor
RUN cargo build --release --locked && strip target/release/cutover

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /nonexistent --shell /usr/sbin/nologin cutover \
    && mkdir -p /etc/cutover/flags /run/cutover && chown cutover /run/cutover
COPY --from=build /src/target/release/cutover /usr/local/bin/cutover
COPY routes.toml /etc/cutover/routes.toml
COPY flags /etc/cutover/flags
USER cutover
ENV CUTOVER_CONFIG=/etc/cutover/routes.toml
EXPOSE 8080 9090
# tini forwards SIGTERM (drain), SIGHUP (reload) and SIGQUIT (graceful upgrade).
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/cutover"]
CMD ["serve"]
