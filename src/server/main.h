/*
 * main.h - the entry point an application calls from its main().
 */
#ifndef KEEL_SERVER_MAIN_H
#define KEEL_SERVER_MAIN_H

#include "http/app.h"

/*
 * Parse the command line (--config, --foreground, --check-config,
 * --version, --help), load and check the configuration, open the socket,
 * daemonize unless --foreground, write the pid file and run the master.
 * Returns the exit status: 0, 1 on a runtime failure, 2 on a usage or
 * configuration error.
 */
int keel_main(int argc, char **argv, const keel_app_t *app);

#endif
