/*
 * store.h - Conduit's SQL (parameterized only): accounts (store.c), and
 * profiles, articles, favorites, comments and tags (store_articles.c).  Each
 * function answers KEEL_OK with *out, a JSON object the caller puts
 * (json_object_put), or the database's error mapped to a keel_rc, with
 * details in *err for the log.
 */
#ifndef CONDUIT_STORE_H
#define CONDUIT_STORE_H

#include "db/db.h"

#include <json-c/json.h>

/* A user as RealWorld shows it: {"id" (public uuid), "username", "email",
 * "bio", "image"} (without "token", which the handler adds). */
keel_rc rw_user_create(db_conn_t *c, const char *username, const char *email,
                       const char *hash, json_object **out, db_error_t *err);
/* By email (any case), with the password hash in *hash (malloc'd, free);
 * KEEL_ENOTFOUND when there is none. */
keel_rc rw_user_by_email(db_conn_t *c, const char *email, json_object **out,
                         char **hash, db_error_t *err);
/* By public id; KEEL_ENOTFOUND when there is none. */
keel_rc rw_user_get(db_conn_t *c, const char *id, json_object **out,
                    db_error_t *err);

/*
 * Change what is given: NULL leaves username, email and hash as they are;
 * set_bio/set_image say whether bio/image change, to `bio`/`image` (NULL or
 * "" clears them).  KEEL_ENOTFOUND when the user is gone.
 */
typedef struct rw_user_change {
    const char *username, *email, *hash;
    int set_bio, set_image;
    const char *bio, *image;
} rw_user_change_t;
keel_rc rw_user_update(db_conn_t *c, const char *id, const rw_user_change_t *ch,
                       json_object **out, db_error_t *err);

/*
 * Run `st` and parse the first column of its one row into *out (and copy
 * the second into *second, malloc'd, when asked); KEEL_ENOTFOUND when it
 * gives no row.
 */
keel_rc rw_one_json(db_conn_t *c, const db_stmt_t *st,
                    const char *const *params, json_object **out, char **second,
                    db_error_t *err);

/* ---- profiles, articles, favorites, comments, tags (store_articles.c) ---
 * `viewer` is the caller's public id, NULL when anonymous: it decides
 * "following" and "favorited".  KEEL_ENOTFOUND when the named profile,
 * article or comment does not exist. */

/* {"username", "bio", "image", "following"}. */
keel_rc rw_profile_get(db_conn_t *c, const char *viewer, const char *username,
                       json_object **out, db_error_t *err);
/* Follow (or stop following) `username`; the profile as it is after. */
keel_rc rw_profile_follow(db_conn_t *c, const char *viewer,
                          const char *username, json_object **out,
                          db_error_t *err);
keel_rc rw_profile_unfollow(db_conn_t *c, const char *viewer,
                            const char *username, json_object **out,
                            db_error_t *err);

/* An article as RealWorld shows it, body included. */
keel_rc rw_article_get(db_conn_t *c, const char *viewer, const char *slug,
                       json_object **out, db_error_t *err);
/* Who may change it: {"id" (internal), "author" (public id)}. */
keel_rc rw_article_owner(db_conn_t *c, const char *slug, json_object **out,
                         db_error_t *err);

/* What an article is written with: NULL members (and tags) stay as they
 * are on update; `tags` is a JSON array of distinct strings. */
typedef struct rw_article_fields {
    const char *title, *description, *body;
    json_object *tags;
} rw_article_fields_t;
/*
 * A new article by `author` (public id) under `slug`, or under the slug
 * with a random suffix when `slug` is taken or `reserved`; its tags in one
 * transaction.  KEEL_ENOTFOUND when the author is gone.
 */
keel_rc rw_article_create(db_conn_t *c, const char *author, const char *slug,
                          int reserved, const rw_article_fields_t *f,
                          json_object **out, db_error_t *err);
/* Change article `id` (internal, from rw_article_owner) as `viewer`. */
keel_rc rw_article_update(db_conn_t *c, const char *viewer, const char *id,
                          const rw_article_fields_t *f, json_object **out,
                          db_error_t *err);
keel_rc rw_article_delete(db_conn_t *c, const char *id, db_error_t *err);
/* Favorite (or stop) the article; the article as it is after. */
keel_rc rw_article_favorite(db_conn_t *c, const char *viewer, const char *slug,
                            json_object **out, db_error_t *err);
keel_rc rw_article_unfavorite(db_conn_t *c, const char *viewer,
                              const char *slug, json_object **out,
                              db_error_t *err);

/* A page of articles, newest first, without their bodies:
 * {"articles": [...], "articlesCount": all that match}.  NULL filters do
 * not filter; `feed` keeps the authors `viewer` follows. */
typedef struct rw_article_filter {
    const char *tag, *author, *favorited;
    int feed;
    long limit, offset;
} rw_article_filter_t;
keel_rc rw_article_list(db_conn_t *c, const char *viewer,
                        const rw_article_filter_t *f, json_object **out,
                        db_error_t *err);
/* {"tags": [...]}: the tags of existing articles, most used first. */
keel_rc rw_tags_list(db_conn_t *c, json_object **out, db_error_t *err);

/* A comment by `viewer` on the article: {"id", "createdAt", "updatedAt",
 * "body", "author"}; KEEL_ENOTFOUND when the article is gone. */
keel_rc rw_comment_create(db_conn_t *c, const char *viewer, const char *slug,
                          const char *body, json_object **out, db_error_t *err);
/* {"comments": [...]}, newest first (the latest RW_COMMENTS_MAX). */
#define RW_COMMENTS_MAX 500
#define RW_XSTR(x)      #x
#define RW_STR(x)       RW_XSTR(x)
keel_rc rw_comment_list(db_conn_t *c, const char *viewer, const char *slug,
                        json_object **out, db_error_t *err);
/* Who may delete it: {"comment": id or null (no such comment on the
 * article), "author": public id or null}; `id` NULL when not a number. */
keel_rc rw_comment_owner(db_conn_t *c, const char *slug, const char *id,
                         json_object **out, db_error_t *err);
keel_rc rw_comment_delete(db_conn_t *c, const char *id, db_error_t *err);

#endif
