#!/bin/sh
# icegate coturn entrypoint: validates the environment, renders turnserver.conf.template into a
# mode-600 config, then execs turnserver with it. POSIX sh and awk only (no bash, no envsubst).
#
# Fails closed (exit 78, EX_CONFIG) with a message naming the variable, never a secret's value.
# Every variable is documented in .env.example. Besides those:
#   ICEGATE_TEMPLATE=/path                 the template (default: turnserver.conf.template beside this script)
#   ICEGATE_RENDER_ONLY=/path/out.conf     render to that file and exit instead of starting coturn (tests)
#   ICEGATE_TEST_ALLOW_LOOPBACK_PEERS=true add allow-loopback-peers; refused outside render-only mode
set -eu

SCRIPT_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
TEMPLATE=${ICEGATE_TEMPLATE:-$SCRIPT_DIR/turnserver.conf.template}
RENDER_ONLY=${ICEGATE_RENDER_ONLY:-}
CONFIG_FILE=${RENDER_ONLY:-${ICEGATE_CONFIG_FILE:-/run/icegate/turnserver.conf}}
MIN_SECRET_LENGTH=16

fail() {
  printf 'icegate-coturn: %s\n' "$*" >&2
  exit 78
}

note() {
  printf 'icegate-coturn: %s\n' "$*" >&2
}

trim() {
  _v=$1
  _v=${_v#"${_v%%[![:space:]]*}"}
  _v=${_v%"${_v##*[![:space:]]}"}
  printf '%s' "$_v"
}

# --- Checks ---------------------------------------------------------------------------------

require_uint() { # NAME VALUE MIN MAX
  case $2 in '' | *[!0-9]*) fail "$1 must be a whole number from $3 to $4" ;; esac
  [ "${#2}" -le 12 ] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ] || fail "$1 must be a whole number from $3 to $4"
}

require_bool() { # NAME VALUE
  case $2 in true | false) ;; *) fail "$1 must be true or false" ;; esac
}

require_ip() { # NAME VALUE: an IPv4 or IPv6 literal (no brackets)
  case $2 in *[!0-9A-Fa-f:.]* | '' | *:*:*:*:*:*:*:*:*:*) fail "$1 must be an IP address" ;; esac
  case $2 in *.*.*.* | *:*) ;; *) fail "$1 must be an IP address" ;; esac
}

require_file() { # NAME PATH
  case $2 in /*) ;; *) fail "$1 must be an absolute path" ;; esac
  [ -r "$2" ] || fail "$1 points to $2, which is missing or unreadable"
}

require_path() { # NAME PATH: somewhere coturn may write
  case $2 in /*) ;; *) fail "$1 must be an absolute path" ;; esac
  case $2 in *[[:space:]]* | *'"'* | *"'"*) fail "$1 must not contain spaces or quotes" ;; esac
}

is_true() {
  [ -n "$1" ] && [ "$1" != false ]
}

# --- Required -------------------------------------------------------------------------------

TURN_SECRETS=${TURN_SECRETS:-}
[ -n "$(trim "$TURN_SECRETS")" ] ||
  fail "TURN_SECRETS is required: a comma-separated list holding the worker's TURN_SECRET"

count=0
fingerprints=''
old_ifs=$IFS
IFS=,
set -f
for raw in $TURN_SECRETS; do
  secret=$(trim "$raw")
  [ -n "$secret" ] || continue
  count=$((count + 1))
  case $secret in
    *[!A-Za-z0-9+/=_.~-]*)
      fail "TURN_SECRETS: secret #$count may contain only letters, digits and + / = _ . ~ - (base64, base64url or hex)"
      ;;
  esac
  [ "${#secret}" -ge "$MIN_SECRET_LENGTH" ] ||
    fail "TURN_SECRETS: secret #$count is shorter than $MIN_SECRET_LENGTH characters"
  if command -v sha256sum >/dev/null 2>&1; then
    # The same public fingerprint as the worker's /healthz, so operators can match them.
    fp=$(printf 'icegate-fingerprint/v1\000%s' "$secret" | sha256sum | cut -c1-12)
    fingerprints="$fingerprints sha256:$fp"
  fi
done
set +f
IFS=$old_ifs
unset raw secret
[ "$count" -ge 1 ] || fail "TURN_SECRETS is required: it holds only commas and spaces"

REALM=$(trim "${REALM:-}")
[ -n "$REALM" ] || fail "REALM is required: the TURN realm, for example turn.example.com"
case $REALM in *[!A-Za-z0-9.-]*) fail "REALM must be a domain name such as turn.example.com" ;; esac

# --- Optional, with defaults ----------------------------------------------------------------

: "${TURN_USERNAME_SEPARATOR:=:}"
case $TURN_USERNAME_SEPARATOR in
  [\#\"\'\\=]) fail "TURN_USERNAME_SEPARATOR must be one punctuation character other than # \" ' \\ =" ;;
  [[:punct:]]) ;;
  *) fail "TURN_USERNAME_SEPARATOR must be one punctuation character, the same as the worker's" ;;
esac

: "${LISTENING_IP:=}" "${RELAY_IP:=}" "${EXTERNAL_IP:=}"
[ -z "$LISTENING_IP" ] || require_ip LISTENING_IP "$LISTENING_IP"
[ -z "$RELAY_IP" ] || require_ip RELAY_IP "$RELAY_IP"
if [ -n "$EXTERNAL_IP" ]; then
  case $EXTERNAL_IP in
    */*/*) fail "EXTERNAL_IP must be an IP address, or public/private" ;;
    */*)
      require_ip EXTERNAL_IP "${EXTERNAL_IP%%/*}"
      require_ip EXTERNAL_IP "${EXTERNAL_IP#*/}"
      ;;
    *) require_ip EXTERNAL_IP "$EXTERNAL_IP" ;;
  esac
fi

: "${LISTENING_PORT:=3478}" "${MIN_PORT:=49152}" "${MAX_PORT:=65535}"
require_uint LISTENING_PORT "$LISTENING_PORT" 1 65535
require_uint MIN_PORT "$MIN_PORT" 1024 65535
require_uint MAX_PORT "$MAX_PORT" 1024 65535
[ "$MIN_PORT" -lt "$MAX_PORT" ] || fail "MIN_PORT must be below MAX_PORT"

: "${TLS_CERT:=}" "${TLS_KEY:=}" "${TLS_PORT:=5349}" "${TLS_ALT_PORT:=}" "${TLS_ALT_ADDRESS:=}"
TLS_ENABLED=false
if [ -n "$TLS_CERT" ] || [ -n "$TLS_KEY" ]; then
  [ -n "$TLS_CERT" ] && [ -n "$TLS_KEY" ] || fail "TLS_CERT and TLS_KEY must be set together"
  require_file TLS_CERT "$TLS_CERT"
  require_file TLS_KEY "$TLS_KEY"
  require_path TLS_CERT "$TLS_CERT"
  require_path TLS_KEY "$TLS_KEY"
  require_uint TLS_PORT "$TLS_PORT" 1 65535
  TLS_ENABLED=true
fi
if [ -n "$TLS_ALT_PORT" ]; then
  [ "$TLS_ENABLED" = true ] || fail "TLS_ALT_PORT needs TLS_CERT and TLS_KEY"
  require_uint TLS_ALT_PORT "$TLS_ALT_PORT" 1 65535
  [ -n "$TLS_ALT_ADDRESS" ] || TLS_ALT_ADDRESS=${LISTENING_IP:-0.0.0.0}
  require_ip TLS_ALT_ADDRESS "$TLS_ALT_ADDRESS"
  case $TLS_ALT_ADDRESS in *:*) TLS_ALT_ADDRESS="[$TLS_ALT_ADDRESS]" ;; esac
fi

: "${NO_TCP_RELAY:=true}"
require_bool NO_TCP_RELAY "$NO_TCP_RELAY"

: "${USER_QUOTA:=12}" "${TOTAL_QUOTA:=1200}" "${MAX_BPS:=500000}" "${BPS_CAPACITY:=0}"
: "${MAX_ALLOCATE_LIFETIME:=3600}"
require_uint USER_QUOTA "$USER_QUOTA" 0 1000000
require_uint TOTAL_QUOTA "$TOTAL_QUOTA" 0 10000000
require_uint MAX_BPS "$MAX_BPS" 0 10000000000
require_uint BPS_CAPACITY "$BPS_CAPACITY" 0 100000000000
require_uint MAX_ALLOCATE_LIFETIME "$MAX_ALLOCATE_LIFETIME" 60 86400

: "${ALLOWED_PEER_IPS:=}"
old_ifs=$IFS
IFS=,
set -f
for entry in $ALLOWED_PEER_IPS; do
  entry=$(trim "$entry")
  [ -n "$entry" ] || continue
  case $entry in
    *-*-*) fail "ALLOWED_PEER_IPS: each entry is an IP address or a first-last range" ;;
    *-*)
      require_ip ALLOWED_PEER_IPS "${entry%-*}"
      require_ip ALLOWED_PEER_IPS "${entry#*-}"
      ;;
    *) require_ip ALLOWED_PEER_IPS "$entry" ;;
  esac
done
set +f
IFS=$old_ifs

: "${PROMETHEUS:=true}" "${PROMETHEUS_ADDRESS:=127.0.0.1}" "${PROMETHEUS_PORT:=9641}"
require_bool PROMETHEUS "$PROMETHEUS"
require_ip PROMETHEUS_ADDRESS "$PROMETHEUS_ADDRESS"
require_uint PROMETHEUS_PORT "$PROMETHEUS_PORT" 1 65535

: "${LOG_FILE:=stdout}" "${USERDB:=/var/lib/coturn/turndb}" "${PIDFILE:=/run/icegate/turnserver.pid}"
[ "$LOG_FILE" = stdout ] || [ "$LOG_FILE" = syslog ] || require_path LOG_FILE "$LOG_FILE"
require_path USERDB "$USERDB"
require_path PIDFILE "$PIDFILE"

: "${ICEGATE_TEST_ALLOW_LOOPBACK_PEERS:=false}"
require_bool ICEGATE_TEST_ALLOW_LOOPBACK_PEERS "$ICEGATE_TEST_ALLOW_LOOPBACK_PEERS"
if [ "$ICEGATE_TEST_ALLOW_LOOPBACK_PEERS" = true ] && [ -z "$RENDER_ONLY" ]; then
  fail "ICEGATE_TEST_ALLOW_LOOPBACK_PEERS is for tests and works only with ICEGATE_RENDER_ONLY"
fi

# A port below 1024 needs CAP_NET_BIND_SERVICE, which this non-root image gets from a file
# capability on turnserver. no_new_privs (Kubernetes allowPrivilegeEscalation: false, Docker
# no-new-privileges) discards file capabilities, and without the capability in the bounding
# set the kernel refuses to run turnserver at all. Say so now rather than fail obscurely later.
privileged_port=''
for port in "$LISTENING_PORT" "${TLS_ALT_PORT:-1024}"; do
  [ "$port" -ge 1024 ] || privileged_port=$port
done
if [ "$TLS_ENABLED" = true ] && [ "$TLS_PORT" -lt 1024 ]; then privileged_port=$TLS_PORT; fi
if [ -n "$privileged_port" ] && [ "$(id -u)" != 0 ] && [ -r /proc/self/status ]; then
  nnp=$(awk '/^NoNewPrivs:/ { print $2 }' /proc/self/status)
  [ "$nnp" != 1 ] || fail "port $privileged_port is below 1024, but no_new_privs is set, which discards turnserver's CAP_NET_BIND_SERVICE file capability: allow privilege escalation, or use ports from 1024 up"
fi

# --- Render ---------------------------------------------------------------------------------

[ -r "$TEMPLATE" ] || fail "template $TEMPLATE is missing or unreadable"
config_dir=$(dirname -- "$CONFIG_FILE")
[ -d "$config_dir" ] && [ -w "$config_dir" ] || fail "cannot write the config into $config_dir"

export TURN_SECRETS REALM TURN_USERNAME_SEPARATOR LISTENING_IP LISTENING_PORT RELAY_IP EXTERNAL_IP \
  MIN_PORT MAX_PORT TLS_ENABLED TLS_CERT TLS_KEY TLS_PORT TLS_ALT_PORT TLS_ALT_ADDRESS NO_TCP_RELAY \
  USER_QUOTA TOTAL_QUOTA MAX_BPS BPS_CAPACITY MAX_ALLOCATE_LIFETIME ALLOWED_PEER_IPS PROMETHEUS \
  PROMETHEUS_ADDRESS PROMETHEUS_PORT LOG_FILE USERDB PIDFILE ICEGATE_TEST_ALLOW_LOOPBACK_PEERS

umask 077
partial="$CONFIG_FILE.partial.$$"
trap 'rm -f "$partial"' EXIT INT TERM
# Values are read from ENVIRON inside awk, never passed on a command line (no secret in `ps`),
# and spliced in with index/substr, so no character of a value is treated as a pattern.
if ! awk '
  function fatal(message) { print "icegate-coturn: " message > "/dev/stderr"; failed = 1; exit 1 }
  function truthy(name) { return (name in ENVIRON) && ENVIRON[name] != "" && ENVIRON[name] != "false" }
  function list(name, key,    n, i, items, item) {
    n = split(ENVIRON[name], items, ",")
    for (i = 1; i <= n; i++) {
      item = items[i]
      gsub(/^[ \t\r\n]+|[ \t\r\n]+$/, "", item)
      if (item != "") print key "=" item
    }
  }
  function substitute(line,    out, start, rest, end, name, value) {
    out = ""
    while ((start = index(line, "${")) > 0) {
      rest = substr(line, start + 2)
      end = index(rest, "}")
      if (end == 0) fatal("template line " NR ": unclosed ${")
      name = substr(rest, 1, end - 1)
      if (!(name in ENVIRON)) fatal("template line " NR ": ${" name "} is not set")
      value = ENVIRON[name]
      if (value == "") fatal("template line " NR ": ${" name "} is empty")
      if (value ~ /[\r\n]/) fatal(name " must be a single line")
      out = out substr(line, 1, start - 1) value
      line = substr(rest, end + 1)
    }
    return out line
  }
  BEGIN { depth = 0; keep[0] = 1; print "# Rendered by icegate entrypoint.sh from turnserver.conf.template. Do not edit." }
  /^[ \t]*#/ || /^[ \t]*$/ { next }
  /^@if[ \t]/ {
    name = $2; depth++
    parent[depth] = keep[depth - 1]; cond[depth] = truthy(name)
    keep[depth] = parent[depth] && cond[depth]; next
  }
  /^@else[ \t]*$/ {
    if (depth == 0) fatal("template line " NR ": @else without @if")
    cond[depth] = !cond[depth]; keep[depth] = parent[depth] && cond[depth]; next
  }
  /^@end[ \t]*$/ { if (depth == 0) fatal("template line " NR ": @end without @if"); depth--; next }
  !keep[depth] { next }
  /^@static-auth-secrets[ \t]*$/ { list("TURN_SECRETS", "static-auth-secret"); next }
  /^@allowed-peer-ips[ \t]*$/ { list("ALLOWED_PEER_IPS", "allowed-peer-ip"); next }
  /^@/ { fatal("template line " NR ": unknown directive " $1) }
  { print substitute($0) }
  END { if (!failed && depth != 0) fatal("template: @if without @end") }
' "$TEMPLATE" >"$partial"; then
  fail "could not render $TEMPLATE"
fi
chmod 600 "$partial"
mv -f "$partial" "$CONFIG_FILE"
trap - EXIT INT TERM

note "rendered $CONFIG_FILE: $count static-auth-secret line(s)${fingerprints:+ (fingerprints:$fingerprints)}, TLS $TLS_ENABLED"

if [ -n "$RENDER_ONLY" ]; then
  exit 0
fi

# Secrets now live in the config file only; keep them out of turnserver's environment.
unset TURN_SECRETS
exec turnserver -c "$CONFIG_FILE" "$@"
