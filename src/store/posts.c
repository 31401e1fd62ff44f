/* posts.c - posts in PostgreSQL (parameterized statements only). */
#include "keel-build.h"

#include "store/posts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const coll_field_t post_fields[] = {
    { "id", "p.public_id", COLL_JS_UUID },
    { "author_id", "(SELECT u.public_id FROM users u WHERE u.id = p.author_id)",
      COLL_JS_UUID },
    { "title", "p.title", COLL_JS_STRING },
    { "body", "p.body", COLL_JS_STRING },
    { "status", "p.status",
      "{\"type\":\"string\",\"enum\":[\"draft\",\"published\"]}" },
    { "visibility", "p.visibility",
      "{\"type\":\"string\",\"enum\":[\"public\",\"private\"]}" },
    { "tags", "to_json(p.tags)",
      "{\"type\":\"array\",\"maxItems\":10,\"items\":{\"type\":\"string\"}}" },
    { "published_at", DB_TS("p.published_at"), COLL_JS_TIME_NULL },
    { "created_at", DB_TS("p.created_at"), COLL_JS_TIME },
    { "updated_at", DB_TS("p.updated_at"), COLL_JS_TIME },
    { "version", "p.version", COLL_JS_VERSION },
};

static const char *const post_statuses[] = { "draft", "published", NULL };
static const char *const post_visibilities[] = { "public", "private", NULL };

static const coll_filter_t post_filters[] = {
    { .name = "author_id",
      .type = COLL_UUID,
      .sql = "p.author_id = (SELECT u.id FROM users u "
             "WHERE u.public_id = $::uuid)" },
    { .name = "status",
      .type = COLL_ENUM,
      .values = post_statuses,
      .sql = "p.status = $" },
    { .name = "visibility",
      .type = COLL_ENUM,
      .values = post_visibilities,
      .sql = "p.visibility = $" },
    /* Repeatable: every tag given must be there (the GIN index serves
     * each containment). */
    { .name = "tag",
      .type = COLL_TEXT,
      .max_len = 32,
      .repeatable = 1,
      .sql = "p.tags @> ARRAY[$]::text[]",
      .summary = "Posts with this tag" },
    /* A substring of the title, any case; LIKE's wildcards in the value
     * are matched as themselves ('!' escapes, so no backslash depends on
     * standard_conforming_strings). */
    { .name = "q",
      .type = COLL_TEXT,
      .max_len = 200,
      .sql = "p.title ILIKE '%' || replace(replace(replace($, '!', '!!'), "
             "'%', '!%'), '_', '!_') || '%' ESCAPE '!'",
      .summary = "A substring of the title, in any case" },
    { .name = "created_after",
      .type = COLL_TIMESTAMP,
      .sql = "p.created_at > $::timestamptz",
      .summary = "Created after this instant" },
    { .name = "created_before",
      .type = COLL_TIMESTAMP,
      .sql = "p.created_at < $::timestamptz",
      .summary = "Created before this instant" },
};

static const coll_sort_t post_sorts[] = {
    { "created_at", "p.created_at", "timestamptz" },
    { "updated_at", "p.updated_at", "timestamptz" },
    /* Drafts have none: they sort as the earliest (an expression index
     * serves it). */
    { "published_at", "coalesce(p.published_at, '-infinity'::timestamptz)",
      "timestamptz" },
    { "title", "p.title", "text" },
};

const coll_schema_t posts_collection = {
    .resource = "posts",
    /* A deleted author's posts are deleted with them (users_delete), so
     * the list needs no join with users. */
    .from = "posts p",
    .where = "p.deleted_at IS NULL",
    .id_sql = "p.public_id",
    .fields = COLL_ROWS(post_fields),
    .filters = COLL_ROWS(post_filters),
    .sorts = COLL_ROWS(post_sorts),
    .default_sort = "-created_at",
    .modes = COLL_OFFSET | COLL_CURSOR,
};

size_t
posts_readable(const char *viewer, int read_any, coll_cond_t *cond)
{
    if (read_any)
        return 0;
    cond->sql = "p.status = 'published' AND p.visibility = 'public'";
    cond->value = viewer;
    /* Plus one's own others: disjoint from the open ones, so a total is
     * two index-served counts. */
    cond->or_sql = viewer == NULL
                       ? NULL
                       : "p.author_id = (SELECT u.id FROM users u "
                         "WHERE u.public_id = $::uuid) AND NOT "
                         "(p.status = 'published' AND p.visibility = 'public')";
    return 1;
}

keel_rc
posts_get(db_conn_t *c, const char *id, json_object **out, db_error_t *err)
{
    coll_query_t all = { .schema = &posts_collection, .fields = ~0ULL };
    coll_cond_t cond = { "p.public_id = $::uuid", id, NULL };

    return coll_fetch_one(c, &all, &cond, 1, out, err);
}

/* The author must be live, and stays so until the insert commits (FOR
 * SHARE waits for a deletion in progress; a deleted author inserts
 * nothing), so no post outlives its author. */
DB_STMT(st_post_insert, 6,
        "INSERT INTO posts (author_id, title, body, status, visibility, tags, "
        "published_at) SELECT u.id, $2, coalesce($3, ''), "
        "coalesce($4, 'draft'), coalesce($5, 'public'), "
        "coalesce((SELECT array_agg(t ORDER BY n) "
        "FROM json_array_elements_text($6::json) WITH ORDINALITY AS e (t, n)), "
        "'{}'), CASE WHEN $4 = 'published' THEN now() END "
        "FROM users u WHERE u.public_id = $1::uuid AND u.deleted_at IS NULL "
        "FOR SHARE OF u RETURNING public_id");

typedef struct post_write {
    const char *author, *id;
    const post_fields_t *f;
    long long if_match, version;
    json_object **out;
    db_error_t *err;
} post_write_t;

/* Each write and the read of what it wrote run in one transaction
 * (db_transaction_out), so that the answer and its ETag are this
 * request's version, not a later one. */
static keel_rc
create_tx(db_conn_t *c, void *arg)
{
    post_write_t *w = arg;
    const char *author = w->author;
    const post_fields_t *f = w->f;
    json_object **out = w->out;
    db_error_t *err = w->err;
    const char *p[6] = { author,    f->title,      f->body,
                         f->status, f->visibility, f->tags };
    PGresult *res;
    char id[37];
    keel_rc rc = db_exec(c, &st_post_insert, p, &res, err);

    /* A retried transaction drops what the last attempt read. */
    json_object_put(*out);
    *out = NULL;
    if (rc != KEEL_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return KEEL_ENOTFOUND; /* the author is gone */
    }
    snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return posts_get(c, id, out, err);
}

keel_rc
posts_create(db_conn_t *c, const char *author, const post_fields_t *f,
             json_object **out, db_error_t *err)
{
    post_write_t w = { author, NULL, f, -1, -1, out, err };

    return db_transaction_out(c, create_tx, &w, out, err);
}

DB_STMT(st_post_update, 8,
        "UPDATE posts SET title = coalesce($2, title), "
        "body = coalesce($3, body), status = coalesce($4, status), "
        "visibility = coalesce($5, visibility), "
        "tags = CASE WHEN $6::text IS NULL THEN tags "
        "ELSE coalesce((SELECT array_agg(t ORDER BY n) "
        "FROM json_array_elements_text($6::json) WITH ORDINALITY AS e (t, n)), "
        "'{}') END, "
        "published_at = CASE WHEN published_at IS NULL AND "
        "coalesce($4, status) = 'published' THEN now() "
        "ELSE published_at END, "
        "version = version + 1, updated_at = now() "
        "WHERE public_id = $1::uuid AND deleted_at IS NULL "
        "AND ($7::integer IS NULL OR version = $7::integer) "
        "AND ($8::integer IS NULL OR version = $8::integer) "
        "RETURNING public_id");
DB_STMT(st_post_version, 1,
        "SELECT version FROM posts "
        "WHERE public_id = $1::uuid AND deleted_at IS NULL");
DB_STMT(st_post_delete, 2,
        "UPDATE posts SET deleted_at = now(), updated_at = now(), "
        "version = version + 1 "
        "WHERE public_id = $1::uuid AND deleted_at IS NULL "
        "AND ($2::integer IS NULL OR version = $2::integer) RETURNING id");

static keel_rc
update_tx(db_conn_t *c, void *arg)
{
    post_write_t *w = arg;
    const char *id = w->id;
    const post_fields_t *f = w->f;
    long long if_match = w->if_match, version = w->version;
    json_object **out = w->out;
    db_error_t *err = w->err;
    char im[24], v[24];
    const char *p[8] = { id,
                         f->title,
                         f->body,
                         f->status,
                         f->visibility,
                         f->tags,
                         db_opt_int(if_match, im, sizeof(im)),
                         db_opt_int(version, v, sizeof(v)) };
    PGresult *res;
    int n;
    keel_rc rc = db_exec(c, &st_post_update, p, &res, err);

    /* A retried transaction drops what the last attempt read. */
    json_object_put(*out);
    *out = NULL;
    if (rc != KEEL_OK)
        return rc;
    n = PQntuples(res);
    PQclear(res);
    if (n == 0)
        return db_why_unchanged(c, &st_post_version, id, if_match, err);
    return posts_get(c, id, out, err);
}

keel_rc
posts_update(db_conn_t *c, const char *id, const post_fields_t *f,
             long long if_match, long long version, json_object **out,
             db_error_t *err)
{
    post_write_t w = { NULL, id, f, if_match, version, out, err };

    return db_transaction_out(c, update_tx, &w, out, err);
}

keel_rc
posts_delete(db_conn_t *c, const char *id, long long if_match, db_error_t *err)
{
    return db_guarded_delete(c, &st_post_delete, &st_post_version, id, if_match,
                             err);
}
