# syntax=docker/dockerfile:1
# tickpipe's container image: one binary, every subcommand.
#
#   docker build -t tickpipe .
#   docker run --rm -p 8080:8080 tickpipe            # `tickpipe run`: simulator, SQLite, dashboard
#   docker run --rm tickpipe process --help          # any subcommand
#
# Two stages. The build stage runs the project's own scripts
# (scripts/install-deps.sh, scripts/build.sh) on Debian bookworm, so the image
# is built exactly as a fresh Debian machine builds tickpipe; the dashboard's
# HTML, CSS and JavaScript are compiled into the binary there. The runtime stage is
# bookworm-slim with only the shared libraries the binary links (the list is
# checked against `ldd` by tests/integration/deploy_image.sh), a non-root
# user with a fixed numeric uid (so Kubernetes' runAsNonRoot can verify it),
# and a health check that needs no curl: tickpipe-healthcheck speaks HTTP over
# bash's /dev/tcp.
FROM debian:bookworm AS build
# The build context has no .git: pass the commit for tickpipe_build_info
# (`docker build --build-arg TP_COMMIT=$(git rev-parse --short=12 HEAD) .`).
ARG TP_COMMIT=unknown
WORKDIR /src
COPY . .
RUN scripts/install-deps.sh \
 && scripts/build.sh build -DTP_TESTS=OFF -DCMAKE_BUILD_TYPE=Release \
 && strip build/tickpipe \
 && build/tickpipe --help >/dev/null

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates tzdata libavro23 libcurl4 libjansson4 libpq5 librdkafka1 \
      libsqlite3-0 libssl3 libwebsockets17 libyaml-0-2 libzstd1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/tickpipe \
      --create-home --shell /usr/sbin/nologin tickpipe
COPY --from=build /src/build/tickpipe /usr/local/bin/tickpipe
COPY deploy/tickpipe-healthcheck /usr/local/bin/tickpipe-healthcheck
USER 10001:10001
WORKDIR /var/lib/tickpipe
# Listen on every interface inside the container (the host decides what to
# publish); keep the SQLite store of `tickpipe run` in the home directory,
# where a volume can be mounted.
ENV TICKPIPE_HTTP=0.0.0.0:8080 \
    TICKPIPE_STORE=sqlite:/var/lib/tickpipe/tickpipe.db
EXPOSE 8080
# Checks /healthz of `serve` and `run` (--http), and of `produce` and
# `process` when they serve --metrics (without it the check only reports that
# there is no endpoint: healthy while running).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["tickpipe-healthcheck"]
ENTRYPOINT ["tickpipe"]
CMD ["run"]
