#!/bin/sh
# Entrypoint of the RingKV image (see Dockerfile and DOCKER.md).
#
# It behaves like the official Redis image's docker-entrypoint.sh:
#  - `docker run IMAGE --flag ...` runs ringkv-server with the image's config
#    and those flags; `docker run IMAGE my.conf ...` runs it with my.conf;
#  - protected mode is turned off (ports are published explicitly with -p in
#    Docker), unless the config file given as the first argument has its own
#    `protected-mode` line, which then wins. A later --protected-mode flag
#    also wins, since the last occurrence counts.
# It adds one thing: when CAP_NET_RAW is in the container's bounding set
# (Docker's default set, or --cap-add NET_RAW), it runs the copy of the server
# that carries cap_net_raw as a file capability, so the non-root ringkv user
# can use capture-interface. Without it (--cap-drop ALL) the plain binary runs
# and capture is disabled with one warning line.
set -e

# first arg is `--some-option`: the image's config plus those flags
# first arg is `something.conf`: that config (plus any flags after it)
if [ "${1#-}" != "$1" ]; then
	set -- ringkv-server /etc/ringkv/ringkv.conf "$@"
elif [ "${1%.conf}" != "$1" ]; then
	set -- ringkv-server "$@"
fi

if [ "$1" = ringkv-server ] || [ "$1" = /usr/local/bin/ringkv-server ]; then
	shift
	server=/usr/local/bin/ringkv-server
	bnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
	if [ -n "$bnd" ] && [ $(( (0x$bnd >> 13) & 1 )) -eq 1 ]; then  # 13 = CAP_NET_RAW
		server=/usr/local/libexec/ringkv/ringkv-server
	fi

	doProtectedMode=1
	configFile=
	if [ -f "${1:-}" ]; then
		configFile=$1
		if grep -q '^[[:space:]]*protected-mode' "$configFile"; then
			doProtectedMode=
		fi
	fi
	if [ "$doProtectedMode" ]; then
		if [ "$configFile" ]; then
			shift
			set -- "$configFile" --protected-mode no "$@"
		else
			set -- --protected-mode no "$@"
		fi
	fi
	set -- "$server" "$@"
fi

exec "$@"
