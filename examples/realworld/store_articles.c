/*
 * store_articles.c - Conduit's SQL for profiles, follows, articles, tags,
 * favorites and comments (store.h).  PostgreSQL builds the JSON; every
 * value is a parameter.
 */
#include "keel-build.h"

#include "store.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The caller (NULL: none), as a one-row (or empty) relation. */
#define ME "me AS (SELECT id FROM users WHERE public_id = $1::uuid)"

/* User `u` as the caller sees it: RealWorld's profile. */
#define PROFILE_JSON(u)                                                        \
    "json_build_object('username', " u ".username, 'bio', " u ".bio, "         \
    "'image', " u ".image, 'following', EXISTS (SELECT 1 FROM follows fo "     \
    "WHERE fo.follower_id = (SELECT id FROM me) AND fo.followee_id = " u       \
    ".id))"

/* Article `a` by author `u`, as json_build_object arguments (the list
 * leaves out the body, the single article adds it).  Tags and the
 * favorites count are kept on the row (0003_article_counts). */
#define ARTICLE_MEMBERS                                                        \
    "'slug', a.slug, 'title', a.title, 'description', a.description, "         \
    "'tagList', to_json(a.tag_list), 'createdAt', " CREATED                    \
    ", 'updatedAt', " UPDATED ", 'favorited', " FAVORITED                      \
    ", 'favoritesCount', a.favorites_count, 'author', " PROFILE_JSON("u")
#define CREATED DB_TS("a.created_at")
#define UPDATED DB_TS("a.updated_at")
/* Whether the caller favorited article `a`. */
#define FAVORITED                                                              \
    "EXISTS (SELECT 1 FROM favorites fa WHERE fa.article_id = a.id AND "       \
    "fa.user_id = (SELECT id FROM me))"

#define ARTICLE_JSON                                                           \
    "json_build_object('body', a.body, " ARTICLE_MEMBERS ")::text"

/* ---- profiles ---------------------------------------------------------- */

DB_STMT(st_profile_get, 2,
        "WITH " ME
        " SELECT " PROFILE_JSON("u") "::text "
                                     "FROM users u WHERE u.username = $2");
/* The answer is read in the statement's snapshot, before its own write:
 * "following" says what the write made it. */
DB_STMT(st_follow, 2,
        "WITH " ME ", target AS (SELECT * FROM users WHERE username = $2), "
        "ins AS (INSERT INTO follows (follower_id, followee_id) "
        "SELECT me.id, target.id FROM me, target ON CONFLICT DO NOTHING) "
        "SELECT json_build_object('username', username, 'bio', bio, "
        "'image', image, 'following', EXISTS (SELECT 1 FROM me))::text "
        "FROM target");
DB_STMT(st_unfollow, 2,
        "WITH " ME ", target AS (SELECT * FROM users WHERE username = $2), "
        "del AS (DELETE FROM follows f USING me, target "
        "WHERE f.follower_id = me.id AND f.followee_id = target.id) "
        "SELECT json_build_object('username', username, 'bio', bio, "
        "'image', image, 'following', false)::text FROM target");

keel_rc
rw_profile_get(db_conn_t *c, const char *viewer, const char *username,
               json_object **out, db_error_t *err)
{
    const char *p[] = { viewer, username };

    return rw_one_json(c, &st_profile_get, p, out, NULL, err);
}

keel_rc
rw_profile_follow(db_conn_t *c, const char *viewer, const char *username,
                  json_object **out, db_error_t *err)
{
    const char *p[] = { viewer, username };

    return rw_one_json(c, &st_follow, p, out, NULL, err);
}

keel_rc
rw_profile_unfollow(db_conn_t *c, const char *viewer, const char *username,
                    json_object **out, db_error_t *err)
{
    const char *p[] = { viewer, username };

    return rw_one_json(c, &st_unfollow, p, out, NULL, err);
}

/* ---- articles ---------------------------------------------------------- */

DB_STMT(st_article_get, 2,
        "WITH " ME " SELECT " ARTICLE_JSON " FROM articles a "
        "JOIN users u ON u.id = a.author_id WHERE a.slug = $2");
DB_STMT(st_article_by_id, 2,
        "WITH " ME " SELECT " ARTICLE_JSON " FROM articles a "
        "JOIN users u ON u.id = a.author_id WHERE a.id = $2::bigint");
DB_STMT(st_article_owner, 1,
        "SELECT json_build_object('id', a.id::text, "
        "'author', u.public_id)::text "
        "FROM articles a JOIN users u ON u.id = a.author_id "
        "WHERE a.slug = $1");
/* A taken (or reserved) slug gets 8 random hex digits: duplicate titles
 * are allowed.  Two writers racing for one free slug: the unique key
 * refuses the second, which tries again (rw_article_create). */
DB_STMT(st_article_insert, 6,
        "INSERT INTO articles (slug, author_id, title, description, body) "
        "SELECT CASE WHEN $6::boolean OR EXISTS "
        "(SELECT 1 FROM articles WHERE slug = $2) "
        "THEN $2 || '-' || substr(md5(gen_random_uuid()::text), 1, 8) "
        "ELSE $2 END, u.id, $3, $4, $5 "
        "FROM users u WHERE u.public_id = $1::uuid RETURNING id");
DB_STMT(st_article_update, 4,
        "UPDATE articles SET title = coalesce($2, title), "
        "description = coalesce($3, description), "
        "body = coalesce($4, body), updated_at = now() "
        "WHERE id = $1::bigint RETURNING id");
DB_STMT(st_article_delete, 1,
        "DELETE FROM articles WHERE id = $1::bigint RETURNING id");
DB_STMT(st_tags_insert, 1,
        "INSERT INTO tags (name) "
        "SELECT DISTINCT value FROM json_array_elements_text($1::json) "
        "ON CONFLICT (name) DO NOTHING");
DB_STMT(st_article_tags_clear, 1,
        "DELETE FROM article_tags WHERE article_id = $1::bigint");
DB_STMT(st_article_tag_list, 2,
        "UPDATE articles SET tag_list = ARRAY(SELECT x.name "
        "FROM json_array_elements_text($2::json) WITH ORDINALITY "
        "AS x (name, n) ORDER BY x.n) WHERE id = $1::bigint");
DB_STMT(
    st_article_tags_insert, 2,
    "INSERT INTO article_tags (article_id, tag_id, position) "
    "SELECT $1::bigint, t.id, x.n "
    "FROM json_array_elements_text($2::json) WITH ORDINALITY AS x (name, n) "
    "JOIN tags t ON t.name = x.name");

/* Run `st` for its effect: KEEL_ENOTFOUND when it touched no row and
 * `row` (its id, copied into row[0..len)) was asked for. */
static keel_rc
exec_row(db_conn_t *c, const db_stmt_t *st, const char *const *p, char *row,
         size_t len, db_error_t *err)
{
    PGresult *res;
    keel_rc rc = db_exec(c, st, p, &res, err);

    if (rc != KEEL_OK)
        return rc;
    if (row != NULL && PQntuples(res) == 0)
        rc = KEEL_ENOTFOUND;
    else if (row != NULL)
        snprintf(row, len, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

typedef struct article_write {
    const char *viewer, *slug, *id;
    int reserved;
    const rw_article_fields_t *f;
    json_object **out;
    db_error_t *err;
} article_write_t;

/* Replace the tags of article `id` with w->f->tags (when given). */
static keel_rc
tags_set(db_conn_t *c, const char *id, const article_write_t *w)
{
    const char *tags, *p[2] = { id, NULL };
    keel_rc rc;

    if (w->f->tags == NULL)
        return KEEL_OK;
    tags = json_object_to_json_string_ext(w->f->tags, JSON_C_TO_STRING_PLAIN);
    rc = exec_row(c, &st_article_tags_clear, p, NULL, 0, w->err);
    if (rc == KEEL_OK && json_object_array_length(w->f->tags) > 0) {
        p[0] = tags;
        rc = exec_row(c, &st_tags_insert, p, NULL, 0, w->err);
        p[0] = id;
        p[1] = tags;
        if (rc == KEEL_OK)
            rc = exec_row(c, &st_article_tags_insert, p, NULL, 0, w->err);
    }
    p[0] = id;
    p[1] = tags;
    if (rc == KEEL_OK)
        rc = exec_row(c, &st_article_tag_list, p, NULL, 0, w->err);
    return rc;
}

/* The article and its tags, then the answer, in one transaction. */
static keel_rc
create_tx(db_conn_t *c, void *arg)
{
    article_write_t *w = arg;
    const char *p[] = { w->viewer,   w->slug,
                        w->f->title, w->f->description,
                        w->f->body,  w->reserved ? "true" : "false" };
    char id[24];
    keel_rc rc;

    /* A retried transaction drops what the last attempt read. */
    json_object_put(*w->out);
    *w->out = NULL;
    rc = exec_row(c, &st_article_insert, p, id, sizeof(id), w->err);
    if (rc == KEEL_OK)
        rc = tags_set(c, id, w);
    if (rc == KEEL_OK) {
        const char *q[] = { w->viewer, id };
        rc = rw_one_json(c, &st_article_by_id, q, w->out, NULL, w->err);
    }
    return rc;
}

keel_rc
rw_article_create(db_conn_t *c, const char *author, const char *slug,
                  int reserved, const rw_article_fields_t *f, json_object **out,
                  db_error_t *err)
{
    article_write_t w = { author, slug, NULL, reserved, f, out, err };
    keel_rc rc;

    /* A slug taken between the check and the insert: again, suffixed. */
    for (int i = 0; i < 3; i++) {
        rc = db_transaction_out(c, create_tx, &w, out, err);
        if (rc != KEEL_ECONFLICT ||
            strcmp(err->constraint, "articles_slug_key") != 0)
            break;
        w.reserved = 1;
    }
    return rc;
}

static keel_rc
update_tx(db_conn_t *c, void *arg)
{
    article_write_t *w = arg;
    const char *p[] = { w->id, w->f->title, w->f->description, w->f->body };
    const char *q[] = { w->viewer, w->id };
    keel_rc rc;

    json_object_put(*w->out);
    *w->out = NULL;
    rc = exec_row(c, &st_article_update, p, NULL, 0, w->err);
    if (rc == KEEL_OK)
        rc = tags_set(c, w->id, w);
    if (rc == KEEL_OK)
        rc = rw_one_json(c, &st_article_by_id, q, w->out, NULL, w->err);
    return rc;
}

keel_rc
rw_article_update(db_conn_t *c, const char *viewer, const char *id,
                  const rw_article_fields_t *f, json_object **out,
                  db_error_t *err)
{
    article_write_t w = { viewer, NULL, id, 0, f, out, err };

    return db_transaction_out(c, update_tx, &w, out, err);
}

keel_rc
rw_article_delete(db_conn_t *c, const char *id, db_error_t *err)
{
    const char *p[] = { id };
    char row[24];

    return exec_row(c, &st_article_delete, p, row, sizeof(row), err);
}

keel_rc
rw_article_get(db_conn_t *c, const char *viewer, const char *slug,
               json_object **out, db_error_t *err)
{
    const char *p[] = { viewer, slug };

    return rw_one_json(c, &st_article_get, p, out, NULL, err);
}

keel_rc
rw_article_owner(db_conn_t *c, const char *slug, json_object **out,
                 db_error_t *err)
{
    const char *p[] = { slug };

    return rw_one_json(c, &st_article_owner, p, out, NULL, err);
}

/* ---- favorites --------------------------------------------------------- */

/* The count moves only when a row was added or removed: a repeated
 * favorite, or two at once by one user, count once (the second waits on
 * the first's key and then adds nothing). */
DB_STMT(st_favorite, 2,
        "WITH ins AS (INSERT INTO favorites (user_id, article_id) "
        "SELECT u.id, a.id FROM users u, articles a "
        "WHERE u.public_id = $1::uuid AND a.slug = $2 "
        "ON CONFLICT DO NOTHING RETURNING article_id) "
        "UPDATE articles SET favorites_count = favorites_count + 1 "
        "WHERE id IN (SELECT article_id FROM ins)");
DB_STMT(st_unfavorite, 2,
        "WITH del AS (DELETE FROM favorites f USING users u, articles a "
        "WHERE u.public_id = $1::uuid AND a.slug = $2 "
        "AND f.user_id = u.id AND f.article_id = a.id RETURNING f.article_id) "
        "UPDATE articles SET favorites_count = favorites_count - 1 "
        "WHERE id IN (SELECT article_id FROM del)");

/* Run `st`, then read the article back: an unknown slug wrote nothing
 * and reads nothing (KEEL_ENOTFOUND). */
static keel_rc
favorite(db_conn_t *c, const db_stmt_t *st, const char *viewer,
         const char *slug, json_object **out, db_error_t *err)
{
    const char *p[] = { viewer, slug };
    keel_rc rc = exec_row(c, st, p, NULL, 0, err);

    return rc == KEEL_OK ? rw_article_get(c, viewer, slug, out, err) : rc;
}

keel_rc
rw_article_favorite(db_conn_t *c, const char *viewer, const char *slug,
                    json_object **out, db_error_t *err)
{
    return favorite(c, &st_favorite, viewer, slug, out, err);
}

keel_rc
rw_article_unfavorite(db_conn_t *c, const char *viewer, const char *slug,
                      json_object **out, db_error_t *err)
{
    return favorite(c, &st_unfavorite, viewer, slug, out, err);
}

/* ---- lists ------------------------------------------------------------- */

/*
 * The list's text is one of a small fixed set (db_exec_fixed): a WHERE
 * clause for each filter given, its value the next parameter after the
 * caller ($1), limit ($2) and offset ($3).  The page reads its rows in
 * index order and stops at the limit (selecting whole rows there, not ids
 * joined back, keeps the planner from hashing every article: half the
 * time, measured with bench/realworld.sh); the count reads every match.
 */
static const struct {
    size_t off;             /* the filter's member in rw_article_filter_t */
    const char *pre, *post; /* around its parameter's number */
} filters[] = {
    { offsetof(rw_article_filter_t, tag),
      " AND a.id IN (SELECT at.article_id FROM article_tags at "
      "JOIN tags t ON t.id = at.tag_id WHERE t.name = $",
      ")" },
    { offsetof(rw_article_filter_t, author),
      " AND a.author_id = (SELECT id FROM users WHERE username = $", ")" },
    { offsetof(rw_article_filter_t, favorited),
      " AND a.id IN (SELECT fa.article_id FROM favorites fa "
      "JOIN users fu ON fu.id = fa.user_id WHERE fu.username = $",
      ")" },
};

#define FEED_SQL                                                               \
    " AND a.author_id IN (SELECT followee_id FROM follows "                    \
    "WHERE follower_id = (SELECT id FROM me))"

keel_rc
rw_article_list(db_conn_t *c, const char *viewer, const rw_article_filter_t *f,
                json_object **out, db_error_t *err)
{
    char where[1024], sql[8192], lim[24], off[24];
    const char *p[3 + sizeof(filters) / sizeof(filters[0])];
    size_t used = 0;
    int n = 3, len;

    snprintf(lim, sizeof(lim), "%ld", f->limit);
    snprintf(off, sizeof(off), "%ld", f->offset);
    p[0] = viewer;
    p[1] = lim;
    p[2] = off;
    where[0] = '\0';
    if (f->feed)
        used = (size_t)snprintf(where, sizeof(where), "%s", FEED_SQL);
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        const char *v =
            *(const char *const *)((const char *)f + filters[i].off);
        if (v == NULL)
            continue;
        p[n] = v;
        n++;
        used += (size_t)snprintf(where + used, sizeof(where) - used, "%s%d%s",
                                 filters[i].pre, n, filters[i].post);
    }
    len = snprintf(
        sql, sizeof(sql),
        "WITH " ME ", page AS (SELECT a.* FROM articles a WHERE true%s "
        "ORDER BY a.created_at DESC, a.id DESC "
        "LIMIT $2::bigint OFFSET $3::bigint) "
        "SELECT json_build_object('articles', coalesce((SELECT json_agg("
        "json_build_object(" ARTICLE_MEMBERS
        ") ORDER BY a.created_at DESC, a.id DESC) "
        "FROM page a JOIN users u ON u.id = a.author_id), '[]'::json), "
        "'articlesCount', (SELECT count(*) FROM articles a WHERE "
        "true%s))::text",
        where, where);
    if (used >= sizeof(where) || len < 0 || (size_t)len >= sizeof(sql))
        return KEEL_EINTERNAL; /* fixed fragments: cannot happen */
    {
        PGresult *res;
        keel_rc rc = db_exec_fixed(c, sql, n, p, &res, err);

        if (rc != KEEL_OK)
            return rc;
        *out = json_tokener_parse(PQgetvalue(res, 0, 0));
        PQclear(res);
        return *out != NULL ? KEEL_OK : KEEL_EINTERNAL;
    }
}

/* Most used first, then most recently used: at most 100. */
DB_STMT(st_tags_list, 0,
        "SELECT json_build_object('tags', coalesce(json_agg(name "
        "ORDER BY uses DESC, latest DESC), '[]'::json))::text "
        "FROM (SELECT t.name, count(*) AS uses, max(at.article_id) AS latest "
        "FROM tags t JOIN article_tags at ON at.tag_id = t.id "
        "GROUP BY t.id ORDER BY uses DESC, latest DESC LIMIT 100) s");

keel_rc
rw_tags_list(db_conn_t *c, json_object **out, db_error_t *err)
{
    return rw_one_json(c, &st_tags_list, NULL, out, NULL, err);
}

/* ---- comments ---------------------------------------------------------- */

#define COMMENT_JSON(cm)                                                       \
    "json_build_object('id', " cm ".id, "                                      \
    "'createdAt', " DB_TS(                                                     \
        cm ".created_at") ", "                                                 \
                          "'updatedAt', " DB_TS(                               \
                              cm                                               \
                              ".updated_at") ", "                              \
                                             "'body', " cm                     \
                                             ".body, 'author', " PROFILE_JSON( \
                                                 "u") ")"

DB_STMT(st_comment_insert, 3,
        "WITH " ME ", ins AS (INSERT INTO comments (article_id, author_id, "
        "body) SELECT a.id, me.id, $3 FROM articles a, me WHERE a.slug = $2 "
        "RETURNING *) "
        "SELECT " COMMENT_JSON(
            "ins") "::text "
                   "FROM ins JOIN users u ON u.id = ins.author_id");
DB_STMT(st_comment_list, 2,
        "WITH " ME " SELECT json_build_object('comments', "
        "coalesce((SELECT json_agg(" COMMENT_JSON(
            "cm") " ORDER BY cm.created_at DESC, cm.id DESC) "
                  "FROM (SELECT * FROM comments WHERE article_id = a.id "
                  "ORDER BY created_at DESC, id DESC LIMIT " RW_STR(
                      RW_COMMENTS_MAX) ") cm "
                                       "JOIN users u ON u.id = cm.author_id), "
                                       "'[]'::json))::text "
                                       "FROM articles a WHERE a.slug = $2");
DB_STMT(st_comment_owner, 2,
        "SELECT json_build_object('comment', cm.id::text, "
        "'author', u.public_id)::text FROM articles a "
        "LEFT JOIN comments cm ON cm.article_id = a.id AND cm.id = $2::bigint "
        "LEFT JOIN users u ON u.id = cm.author_id WHERE a.slug = $1");
DB_STMT(st_comment_delete, 1,
        "DELETE FROM comments WHERE id = $1::bigint RETURNING id");

keel_rc
rw_comment_create(db_conn_t *c, const char *viewer, const char *slug,
                  const char *body, json_object **out, db_error_t *err)
{
    const char *p[] = { viewer, slug, body };

    return rw_one_json(c, &st_comment_insert, p, out, NULL, err);
}

keel_rc
rw_comment_list(db_conn_t *c, const char *viewer, const char *slug,
                json_object **out, db_error_t *err)
{
    const char *p[] = { viewer, slug };

    return rw_one_json(c, &st_comment_list, p, out, NULL, err);
}

keel_rc
rw_comment_owner(db_conn_t *c, const char *slug, const char *id,
                 json_object **out, db_error_t *err)
{
    const char *p[] = { slug, id };

    return rw_one_json(c, &st_comment_owner, p, out, NULL, err);
}

keel_rc
rw_comment_delete(db_conn_t *c, const char *id, db_error_t *err)
{
    const char *p[] = { id };
    char row[24];

    return exec_row(c, &st_comment_delete, p, row, sizeof(row), err);
}
