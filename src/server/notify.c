/* notify.c - sd_notify(3) for the master, or nothing without libsystemd. */
#include "keel-build.h"

#include "server/notify.h"
#include "core/log.h"

#include <stdint.h>
#include <stdio.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

static double watchdog_every; /* seconds between pings, 0 = none */
static double watchdog_next;

int
notify_supported(void)
{
    return 1;
}

void
notify_init(void)
{
    uint64_t usec = 0;

    /* > 0 only when $WATCHDOG_USEC is set (and $WATCHDOG_PID, if set, is
     * this process): ping at half the interval, as sd_watchdog_enabled(3)
     * advises. */
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        watchdog_every = (double)usec / 2e6;
        watchdog_next = 0;
        log_printf(KLOG_INFO, "systemd watchdog: pinging every %.3fs",
                   watchdog_every);
    }
}

/* sd_notify() returns 0 without $NOTIFY_SOCKET, < 0 when sending failed:
 * worth a line, since systemd will then time the start or reload out. */
static void
tell(const char *state)
{
    int rc = sd_notify(0, state);

    if (rc < 0)
        log_printf(KLOG_WARN, "sd_notify failed (%d)", rc);
}

void
notify_ready(int workers, int threads)
{
    char state[128];

    snprintf(state, sizeof(state),
             "READY=1\nSTATUS=Serving: %d request worker(s) x %d "
             "thread(s)",
             workers, threads);
    tell(state);
}

void
notify_reloading(void)
{
    tell("RELOADING=1\nSTATUS=Reloading: replacing workers");
}

void
notify_stopping(void)
{
    tell("STOPPING=1\nSTATUS=Stopping: finishing requests");
}

void
notify_watchdog(double now)
{
    if (watchdog_every <= 0 || now < watchdog_next)
        return;
    watchdog_next = now + watchdog_every;
    tell("WATCHDOG=1");
}

#else /* !HAVE_SYSTEMD */

int
notify_supported(void)
{
    return 0;
}

void
notify_init(void)
{
}

void
notify_ready(int workers, int threads)
{
    (void)workers;
    (void)threads;
}

void
notify_reloading(void)
{
}

void
notify_stopping(void)
{
}

void
notify_watchdog(double now)
{
    (void)now;
}

#endif
