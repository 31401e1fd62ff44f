/*
 * app.h - RealWorld's Conduit as a libkeel application: its route table
 * and its conventions (README.md in this directory).
 */
#ifndef CONDUIT_APP_H
#define CONDUIT_APP_H

#include "http/app.h"

/* The highest migration in examples/realworld/sql/migrations. */
#define CONDUIT_SCHEMA_VERSION 1

extern const keel_app_t conduit_app;

#endif
