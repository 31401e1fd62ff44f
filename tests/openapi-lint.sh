#!/bin/sh
# openapi-lint.sh - the OpenAPI document keeld generates from its route
# table (keeld --openapi, the same text GET /v1/openapi.json serves)
# passes `redocly lint` with tools/node/redocly.yaml and no problem.
#
# The pinned tools (tools/node, `npm ci --prefix tools/node`) are found at
# $KEEL_NODE_TOOLS, else $abs_top_srcdir/tools/node.  Without them (or
# without node) the test is skipped (77), unless KEEL_REQUIRE_NODE_TOOLS=1
# (scripts/dev.sh check), when it fails.
set -u

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
tools=${KEEL_NODE_TOOLS:-${abs_top_srcdir:-$(cd "$srcdir" && pwd)}/tools/node}
redocly="$tools/node_modules/.bin/redocly"

missing() {
    echo "openapi-lint: $1" >&2
    if [ "${KEEL_REQUIRE_NODE_TOOLS:-0}" = 1 ]; then
        echo "openapi-lint: KEEL_REQUIRE_NODE_TOOLS=1: failing" >&2
        exit 1
    fi
    echo "openapi-lint: skipped (npm ci --prefix tools/node)" >&2
    exit 77
}

command -v node >/dev/null 2>&1 || missing "node is not installed"
[ -x "$redocly" ] || missing "no $redocly"

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
if ! "$builddir/keeld" --openapi > "$tmp/openapi.json"; then
    echo "openapi-lint: keeld --openapi failed" >&2
    exit 1
fi
# No telemetry, no update check: the test needs no network.
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
    "$redocly" lint --config "$srcdir/tools/node/redocly.yaml" \
    --format stylish "$tmp/openapi.json"
