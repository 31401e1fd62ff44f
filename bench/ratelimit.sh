#!/bin/bash
# bench/ratelimit.sh [BUILDDIR] - what the rate limiter ([ratelimit] on vs off); target < 5 %.
# See bench/toggle.sh.
exec "$(dirname "${BASH_SOURCE[0]}")/toggle.sh" ratelimit "$@"
