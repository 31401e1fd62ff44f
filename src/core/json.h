/*
 * json.h - helpers over json-c.
 */
#ifndef KEEL_CORE_JSON_H
#define KEEL_CORE_JSON_H

#include "core/error.h"

#include <json-c/json.h>
#include <stddef.h>

/*
 * Parse exactly one JSON value from buf[0..len): strict RFC 8259 syntax,
 * valid UTF-8, nesting at most `max_depth`, nothing but whitespace after
 * it.  Also refused, though json-c alone would accept them: NaN and
 * Infinity, numbers that overflow (integers beyond int64, doubles beyond
 * the finite range), unpaired surrogate escapes, \u0000 in a member name,
 * repeated member names in one object, and numbers outside RFC 8259's
 * grammar ("1.", "-01").  On success returns KEEL_OK and *out (the caller
 * puts it; NULL for the text null, as json-c represents it).  On failure
 * returns KEEL_EBADREQ and points *why at a static client-safe message.
 */
keel_rc json_parse_strict(const char *buf, size_t len, int max_depth,
                          json_object **out, const char **why);

/* Serialize compactly (no escaped slashes).  Valid until `o` changes. */
const char *json_compact(json_object *o, size_t *len);

/* Get a string member or NULL when absent or not a string. */
const char *json_get_string(json_object *o, const char *key);

#endif
