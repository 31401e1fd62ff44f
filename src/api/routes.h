/*
 * routes.h - the reference application's route table: every endpoint of
 * API.md that keel serves, one row each.
 */
#ifndef KEEL_API_ROUTES_H
#define KEEL_API_ROUTES_H

#include "http/app.h"

/* The highest migration in sql/migrations (a unit test keeps it so). */
#define KEEL_SCHEMA_VERSION 8

extern const route_table_t keel_api_routes;
/* Every permission a route may name (API.md 4), NULL-terminated. */
extern const char *const keel_api_permissions[];
/* The reference application as keeld runs it. */
extern const keel_app_t keel_api_app;

#endif
