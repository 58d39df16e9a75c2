# RingKV container image: build with the official Swift image on Debian 12,
# run on debian:bookworm-slim with liburing2 as the only extra package.
#
#   docker build -t ringkv .
#   docker run -d --name ringkv -p 6379:6379 ringkv
#
# See DOCKER.md ("Deploy with Docker") for capture, memlock, seccomp and
# password options, and Tests/docker/docker-test.sh for the script that
# builds and checks this image offline (make docker-test).

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

############################## build stage ###################################
FROM ${SWIFT_IMAGE} AS build

# The official Swift image has the toolchain, git and pkg-config; RingKV also
# links liburing (CLiburing's pkg-config module).
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update -q \
 && apt-get install -y -q --no-install-recommends liburing-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Dependencies first, so a source edit does not re-resolve them.
COPY Package.swift Package.resolved ./
RUN swift package resolve

# Test target folders are listed in Package.swift, so SwiftPM wants them
# present even though nothing here builds them.
COPY Sources ./Sources
COPY Tests ./Tests

# Both products, with the Swift runtime linked in: the binaries then need only
# liburing, libstdc++, libm, libgcc_s and libc at run time.
RUN swift build -c release --static-swift-stdlib --product ringkv-server \
 && swift build -c release --static-swift-stdlib --product ringkv-capture \
 && mkdir -p /out \
 && install -m 0755 "$(swift build -c release --show-bin-path)/ringkv-server" /out/ \
 && install -m 0755 "$(swift build -c release --show-bin-path)/ringkv-capture" /out/

############################## runtime stage #################################
FROM ${RUNTIME_IMAGE}

# A fixed uid/gid (999, as in the redis image) so volume ownership is stable
# across rebuilds. liburing2 and libstdc++6 are what the binaries link.
# libcap2-bin is used only to stamp file capabilities (below) and is removed
# in the same layer.
RUN export DEBIAN_FRONTEND=noninteractive \
 && groupadd --system --gid 999 ringkv \
 && useradd --system --uid 999 --gid ringkv --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin ringkv \
 && apt-get update -q \
 && apt-get install -y -q --no-install-recommends liburing2 libstdc++6 libcap2-bin \
 && mkdir -p /data /etc/ringkv /usr/local/libexec/ringkv \
 && chown ringkv:ringkv /data \
 && rm -rf /var/lib/apt/lists/*

COPY --from=build /out/ringkv-server /out/ringkv-capture /usr/local/bin/
COPY configs/docker.conf /etc/ringkv/ringkv.conf
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh

# Packet capture (AF_PACKET) needs CAP_NET_RAW, but Docker gives a non-root
# user no effective capabilities even with --cap-add. A second copy of the
# server carries cap_net_raw as a file capability; the entrypoint runs it only
# when CAP_NET_RAW is in the container's bounding set, because the kernel
# refuses to exec such a file when the capability is not available
# (--cap-drop ALL). The plain /usr/local/bin/ringkv-server (used by the health
# check and when NET_RAW is dropped) has no file capabilities.
RUN cp /usr/local/bin/ringkv-server /usr/local/libexec/ringkv/ringkv-server \
 && setcap cap_net_raw+ep /usr/local/libexec/ringkv/ringkv-server \
 && setcap cap_net_raw+ep /usr/local/bin/ringkv-capture \
 && apt-get purge -y -q --auto-remove libcap2-bin \
 && chmod 0755 /usr/local/bin/docker-entrypoint.sh \
 && ringkv-server --version

VOLUME /data
WORKDIR /data
USER ringkv:ringkv
EXPOSE 6379

# No curl or redis-cli in the image: the server binary is its own probe.
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
    CMD ["ringkv-server", "--ping", "127.0.0.1:6379"]

# SIGTERM makes ringkv close its listeners, finish in-flight replies and exit 0.
STOPSIGNAL SIGTERM

ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["ringkv-server", "/etc/ringkv/ringkv.conf"]
