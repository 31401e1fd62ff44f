/*
 * posts.h - the SQL of posts (API.md 5.2).  Posts are addressed by their
 * public id; their authors by the user's public id.
 */
#ifndef KEEL_STORE_POSTS_H
#define KEEL_STORE_POSTS_H

#include "db/db.h"
#include "http/collection.h"

#include <json-c/json.h>

/* GET /v1/posts and /v1/users/{id}/posts, and the fields of one post. */
extern const coll_schema_t posts_collection;

/*
 * The condition that limits posts to what a caller may read (API.md 5.2):
 * published and public ones, plus their own (viewer: the user's public id,
 * NULL when anonymous); none with posts:read_any (returns 0).  Fills
 * *cond and returns 1 otherwise.
 */
size_t posts_readable(const char *viewer, int read_any, coll_cond_t *cond);

/* A live post with every field; KEEL_ENOTFOUND when none. */
keel_rc posts_get(db_conn_t *c, const char *id, json_object **out,
                  db_error_t *err);

/*
 * The writable fields of a post; NULL members are not given (PATCH) and
 * keep their value.  `tags` is JSON array text.
 */
typedef struct post_fields {
    const char *title, *body, *status, *visibility, *tags;
} post_fields_t;

/* Create a post by `author` (a user's public id); defaults for fields not
 * given; published_at set when it is created published.  *out: the post. */
keel_rc posts_create(db_conn_t *c, const char *author, const post_fields_t *f,
                     json_object **out, db_error_t *err);

/*
 * Change the given fields in one statement that checks the version:
 * `if_match` and `version` (-1: not given) must be the current one.  The
 * first publication sets published_at.  KEEL_ENOTFOUND, KEEL_EPRECOND
 * (if_match stale), KEEL_EVERSION (version stale).  *out: the post.
 */
keel_rc posts_update(db_conn_t *c, const char *id, const post_fields_t *f,
                     long long if_match, long long version, json_object **out,
                     db_error_t *err);

/* Soft-delete: KEEL_ENOTFOUND, or KEEL_EPRECOND when `if_match` (-1: not
 * given) is not the current version. */
keel_rc posts_delete(db_conn_t *c, const char *id, long long if_match,
                     db_error_t *err);

#endif
