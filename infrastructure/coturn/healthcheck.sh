#!/bin/sh
# icegate coturn health check: one STUN Binding request to the plain listener. Exits 0 when
# coturn answers, 1 otherwise. turnutils_stunclient waits forever for a reply, hence `timeout`.
#   HEALTHCHECK_HOST     address to ask (default: LISTENING_IP, else 127.0.0.1)
#   LISTENING_PORT       port to ask (default 3478)
#   HEALTHCHECK_TIMEOUT  seconds to wait (default 5)
set -u

host=${HEALTHCHECK_HOST:-${LISTENING_IP:-127.0.0.1}}
port=${LISTENING_PORT:-3478}
seconds=${HEALTHCHECK_TIMEOUT:-5}

if timeout "$seconds" turnutils_stunclient -p "$port" "$host" >/dev/null 2>&1; then
  exit 0
fi
echo "icegate-coturn: no STUN answer from $host:$port within ${seconds}s" >&2
exit 1
