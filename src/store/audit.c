/* audit.c - the audit-events collection. */
#include "keel-build.h"

#include "store/audit.h"
#include "db/db.h"

static const coll_field_t audit_fields[] = {
    { "id", "a.public_id", COLL_JS_UUID },
    { "action", "a.action", COLL_JS_STRING },
    { "actor_id", "a.actor_id", COLL_JS_UUID_NULL },
    { "target_type", "a.target_type", COLL_JS_STRING_NULL },
    { "target_id", "a.target_id", COLL_JS_STRING_NULL },
    { "ip", "a.ip", COLL_JS_STRING_NULL },
    { "request_id", "a.request_id", COLL_JS_STRING_NULL },
    { "details", "a.details", "{\"type\":\"object\"}" },
    { "created_at", DB_TS("a.created_at"), COLL_JS_TIME },
};

static const coll_filter_t audit_filters[] = {
    { .name = "actor_id", .type = COLL_UUID, .sql = "a.actor_id = $::uuid" },
    { .name = "action",
      .type = COLL_TEXT,
      .max_len = 64,
      .sql = "a.action = $" },
    { .name = "target_id",
      .type = COLL_TEXT,
      .max_len = 128,
      .sql = "a.target_id = $" },
    { .name = "created_after",
      .type = COLL_TIMESTAMP,
      .sql = "a.created_at > $::timestamptz",
      .summary = "Created after this instant" },
    { .name = "created_before",
      .type = COLL_TIMESTAMP,
      .sql = "a.created_at < $::timestamptz",
      .summary = "Created before this instant" },
};

static const coll_sort_t audit_sorts[] = {
    { "created_at", "a.created_at", "timestamptz" },
};

const coll_schema_t audit_collection = {
    .resource = "audit-events",
    .from = "audit_events a",
    .id_sql = "a.public_id",
    .fields = COLL_ROWS(audit_fields),
    .filters = COLL_ROWS(audit_filters),
    .sorts = COLL_ROWS(audit_sorts),
    .default_sort = "-created_at",
    .modes = COLL_CURSOR,
};
