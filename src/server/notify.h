/*
 * notify.h - telling systemd how the service is doing (sd_notify(3)).
 *
 * Built with libsystemd (configure finds it), keeld run by a unit of
 * Type=notify reports READY=1 once every request worker of the first
 * generation accepts requests, RELOADING=1 on SIGHUP and READY=1 again once
 * the new generation has replaced the old, STOPPING=1 when it begins a
 * graceful stop, and WATCHDOG=1 at half the unit's WatchdogSec= while the
 * master's loop runs.  Without libsystemd, or without $NOTIFY_SOCKET
 * (not started by systemd), every call does nothing.  Master only.
 */
#ifndef KEEL_SERVER_NOTIFY_H
#define KEEL_SERVER_NOTIFY_H

/* 1 when this keeld was built with libsystemd. */
int notify_supported(void);

/* Read the watchdog interval systemd asks for, if any. */
void notify_init(void);

/* READY=1 with a STATUS= line; RELOADING=1; STOPPING=1. */
void notify_ready(int workers, int threads);
void notify_reloading(void);
void notify_stopping(void);

/* Call on every turn of the master's loop: pings the watchdog when due. */
void notify_watchdog(double now);

#endif
