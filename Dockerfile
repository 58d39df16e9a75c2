# RingKV container image: build with the official Swift image on Debian 12,
# run on debian:bookworm-slim with liburing2 and Lua 5.1 (scripting) as the extra packages.
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
      liblua5.1-0-dev lua-cjson-dev lua-bitop-dev libmd-dev \
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
 && mkdir -p /out/bin /out/libexec \
 && install -m 0755 "$(swift build -c release --show-bin-path)/ringkv-server" /out/bin/ \
 && install -m 0755 "$(swift build -c release --show-bin-path)/ringkv-capture" /out/bin/

# Packet capture (AF_PACKET) needs CAP_NET_RAW, but Docker gives a non-root
# user no effective capabilities even with --cap-add. So a second copy of the
# server carries cap_net_raw as a file capability, and so does ringkv-capture.
# The entrypoint runs that copy only when CAP_NET_RAW is in the container's
# bounding set: the kernel refuses to exec a file whose capability cannot be
# granted (--cap-drop ALL). The plain ringkv-server (the health check, and
# the server when NET_RAW is dropped) has none. Stamped here, where
# libcap2-bin costs nothing; COPY keeps the security.capability attribute.
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update -q \
 && apt-get install -y -q --no-install-recommends libcap2-bin \
 && rm -rf /var/lib/apt/lists/* \
 && cp /out/bin/ringkv-server /out/libexec/ringkv-server \
 && setcap cap_net_raw+ep /out/libexec/ringkv-server \
 && setcap cap_net_raw+ep /out/bin/ringkv-capture \
 && getcap /out/libexec/ringkv-server /out/bin/ringkv-capture

############################## runtime stage #################################
FROM ${RUNTIME_IMAGE}

# A fixed uid/gid (999, as in the redis image) so volume ownership is stable
# across rebuilds. liburing2, libstdc++6, and Lua 5.1 with cjson, bit and
# libmd (scripting) are what the binaries link.
RUN export DEBIAN_FRONTEND=noninteractive \
 && groupadd --system --gid 999 ringkv \
 && useradd --system --uid 999 --gid ringkv --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin ringkv \
 && apt-get update -q \
 && apt-get install -y -q --no-install-recommends liburing2 libstdc++6 \
      liblua5.1-0 lua-cjson lua-bitop libmd0 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data /etc/ringkv \
 && chown ringkv:ringkv /data

COPY --from=build /out/bin/ /usr/local/bin/
COPY --from=build /out/libexec/ /usr/local/libexec/ringkv/
COPY configs/docker.conf /etc/ringkv/ringkv.conf
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh \
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
