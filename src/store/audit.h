/*
 * audit.h - reading the audit log (API.md 4).  Records are written by
 * audit_record() (store/sessions.h) inside the transaction of the change
 * they describe; nothing changes or deletes them.
 */
#ifndef KEEL_STORE_AUDIT_H
#define KEEL_STORE_AUDIT_H

#include "http/collection.h"

/* GET /v1/audit-events: cursor pages, newest first, filters actor_id,
 * action, target_id, created_after, created_before. */
extern const coll_schema_t audit_collection;

#endif
