/*
 * params.h - the pure logic of Conduit's parameters, apart from any
 * request or database (tests/unit/test_rw_params.c): slugs from titles,
 * the list pages' limit and offset, an article's tag list.
 */
#ifndef CONDUIT_PARAMS_H
#define CONDUIT_PARAMS_H

#include "core/error.h"

#include <json-c/json.h>
#include <stddef.h>

/* At most this many bytes in a slug made from a title (before the
 * suffix a taken slug gets, store.c). */
#define RW_SLUG_MAX 100
/* The list pages: ?limit= (default, most) and ?offset= (most). */
#define RW_LIMIT_DEFAULT 20
#define RW_LIMIT_MAX     100
#define RW_OFFSET_MAX    100000

/*
 * The slug of `title` in `out` (room for RW_SLUG_MAX + 1 bytes): ASCII
 * letters lower-cased and digits kept, every run of anything else (spaces,
 * punctuation, non-ASCII characters) one '-', none at either end, cut to
 * RW_SLUG_MAX bytes; "article" when nothing is left.  Only [a-z0-9-], so a
 * slug needs no escaping in a path.  Returns its length.
 */
size_t rw_slugify(const char *title, char *out);

/* 1 when `slug` would be taken for a literal path segment of the article
 * routes (GET /api/articles/feed), so must not name an article. */
int rw_slug_reserved(const char *slug);

/*
 * ?limit= and ?offset= (NULL: absent) into *limit (1..RW_LIMIT_MAX,
 * default RW_LIMIT_DEFAULT) and *offset (0..RW_OFFSET_MAX, default 0).
 * KEEL_EINVAL for anything but decimal digits in range, with *field the
 * parameter and *why the message (static strings).
 */
keel_rc rw_page_parse(const char *limit, const char *offset, long *out_limit,
                      long *out_offset, const char **field, const char **why);

/*
 * An article's tagList as stored: each (validated) string without its
 * outer blanks, repeats after the first dropped, order kept.  A new array
 * the caller puts (json_object_put).
 */
json_object *rw_tags_normalise(json_object *list);

#endif
