/*
 * test_collection.c - the collection query language (API.md 1.4) as the
 * chain parses it: limit, page, cursor, count, sort, fields and typed
 * filters, each bad value a 400 detail naming its parameter; cursors that
 * round-trip and refuse any change, another resource or another sort.
 * The SQL side runs against PostgreSQL in tests/integration.
 */
#include "keel-build.h"

#include "unit.h"
#include "http/collection.h"

#include <string.h>

static const char *const states[] = { "draft", "published", NULL };

static const coll_field_t fields[] = {
    { "id", "t.public_id", COLL_JS_UUID },
    { "title", "t.title", COLL_JS_STRING },
    { "status", "t.status", COLL_JS_STRING },
    { "created_at", "t.created_at", COLL_JS_TIME },
};
static const coll_filter_t filters[] = {
    { .name = "status",
      .type = COLL_ENUM,
      .values = states,
      .sql = "t.status = $" },
    { .name = "author_id", .type = COLL_UUID, .sql = "t.author = $::uuid" },
    { .name = "tag",
      .type = COLL_TEXT,
      .max_len = 8,
      .repeatable = 1,
      .sql = "$ = ANY (t.tags)" },
    { .name = "created_after",
      .type = COLL_TIMESTAMP,
      .sql = "t.created_at > $::timestamptz" },
    { .name = "min",
      .type = COLL_INT,
      .min = 0,
      .max = 10,
      .sql = "t.n >= $::integer" },
    { .name = "in_stock", .type = COLL_BOOL, .sql = "(t.stock > 0) = $" },
};
static const coll_sort_t sorts[] = {
    { "created_at", "t.created_at", "timestamptz" },
    { "title", "t.title", "text" },
};
static const coll_schema_t both = {
    .resource = "things",
    .from = "things t",
    .id_sql = "t.public_id",
    .fields = COLL_ROWS(fields),
    .filters = COLL_ROWS(filters),
    .sorts = COLL_ROWS(sorts),
    .default_sort = "-created_at",
    .modes = COLL_OFFSET | COLL_CURSOR,
};
static const coll_schema_t cursor_only = {
    .resource = "events",
    .from = "events t",
    .id_sql = "t.public_id",
    .fields = COLL_ROWS(fields),
    .filters = COLL_ROWS(filters),
    .sorts = COLL_ROWS(sorts),
    .default_sort = "-created_at",
    .modes = COLL_CURSOR,
};

#define SECRET "0123456789abcdef0123456789abcdef"
#define UUID   "0b6f3c2e-1d2a-4b5c-8d9e-0f1a2b3c4d5e"

static arena_t arena;
static json_object *details;
static coll_query_t q;

/* Parse "a=1&b=2" (already decoded; no escapes in these tests). */
static keel_rc
parse(const coll_schema_t *s, const char *qs)
{
    static kv_t kv[16];
    char *copy = arena_strdup(&arena, qs), *save = NULL;
    size_t n = 0;

    json_object_put(details);
    details = json_object_new_array();
    for (char *p = strtok_r(copy, "&", &save); p && n < 16;
         p = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(p, '=');
        if (eq)
            *eq = '\0';
        kv[n].name = p;
        kv[n].value = eq ? eq + 1 : "";
        n++;
    }
    return coll_parse(s, kv, n, SECRET, &arena, &q, details);
}

/* The field of the first detail. */
static const char *
field0(void)
{
    json_object *d = json_object_array_get_idx(details, 0), *f;

    return d && json_object_object_get_ex(d, "field", &f)
               ? json_object_get_string(f)
               : "";
}

static void
test_defaults_are_offset_page_one_limit_20_newest_first(void)
{
    CU_ASSERT_EQUAL_FATAL(parse(&both, ""), KEEL_OK);
    CU_ASSERT_EQUAL(q.limit, 20);
    CU_ASSERT_EQUAL(q.page, 1);
    CU_ASSERT_FALSE(q.cursor_mode);
    CU_ASSERT_EQUAL(q.nsort, 1);
    CU_ASSERT_STRING_EQUAL(q.sort_text, "-created_at");
    CU_ASSERT_TRUE(q.sort[0].desc);
    CU_ASSERT_EQUAL(q.fields, ~0ULL);
    CU_ASSERT_EQUAL_FATAL(parse(&cursor_only, ""), KEEL_OK);
    CU_ASSERT_TRUE(q.cursor_mode);
    CU_ASSERT_FALSE(q.after);
}

static void
test_limit_outside_1_to_100_names_limit(void)
{
    const char *bad[] = { "limit=0", "limit=101", "limit=abc",
                          "limit=",  "limit=-1",  "limit=1e2" };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CU_ASSERT_EQUAL(parse(&both, bad[i]), KEEL_EINVAL);
        CU_ASSERT_STRING_EQUAL(field0(), "limit");
    }
    CU_ASSERT_EQUAL(parse(&both, "limit=100"), KEEL_OK);
    CU_ASSERT_EQUAL(q.limit, 100);
    CU_ASSERT_EQUAL(parse(&both, "limit=1&page=3"), KEEL_OK);
    CU_ASSERT_EQUAL(q.page, 3);
    CU_ASSERT_EQUAL(parse(&both, "page=0"), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(field0(), "page");
}

static void
test_unknown_and_repeated_parameters_are_400(void)
{
    CU_ASSERT_EQUAL(parse(&both, "colour=red"), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(field0(), "colour");
    CU_ASSERT_EQUAL(parse(&both, "limit=5&limit=6"), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(field0(), "limit");
    CU_ASSERT_EQUAL(parse(&both, "status=draft&status=draft"), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(field0(), "status");
    /* Repeatable filters apply each time. */
    CU_ASSERT_EQUAL(parse(&both, "tag=a&tag=b"), KEEL_OK);
    CU_ASSERT_EQUAL(q.nfilters, 2);
    /* A cursor-only collection has no pages. */
    CU_ASSERT_EQUAL(parse(&cursor_only, "page=2"), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(field0(), "page");
    /* A name that is not plain is not echoed. */
    CU_ASSERT_EQUAL(parse(&both, "a<b>=1"), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(field0(), "query");
}

static void
test_filters_are_typed(void)
{
    static const struct {
        const char *qs;
        keel_rc rc;
    } cases[] = {
        { "status=draft", KEEL_OK },
        { "status=deleted", KEEL_EINVAL },
        { "author_id=" UUID, KEEL_OK },
        { "author_id=42", KEEL_EINVAL },
        { "tag=abcdefgh", KEEL_OK },
        { "tag=abcdefghi", KEEL_EINVAL },
        { "tag=", KEEL_EINVAL },
        { "tag=\xc3\x28", KEEL_EINVAL }, /* invalid UTF-8 */
        { "created_after=2026-01-15T10:30:00.123Z", KEEL_OK },
        { "created_after=yesterday", KEEL_EINVAL },
        { "min=10", KEEL_OK },
        { "min=11", KEEL_EINVAL },
        { "in_stock=true", KEEL_OK },
        { "in_stock=1", KEEL_EINVAL },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        keel_rc rc = parse(&both, cases[i].qs);
        if (rc != cases[i].rc)
            fprintf(stderr, "filter case %s: rc %d\n", cases[i].qs, (int)rc);
        CU_ASSERT_EQUAL(rc, cases[i].rc);
        if (cases[i].rc != KEEL_OK)
            CU_ASSERT_EQUAL(strncmp(field0(), cases[i].qs, strlen(field0())),
                            0);
    }
}

static void
test_sort_is_whitelisted_with_direction(void)
{
    CU_ASSERT_EQUAL_FATAL(parse(&both, "sort=title,-created_at"), KEEL_OK);
    CU_ASSERT_EQUAL(q.nsort, 2);
    CU_ASSERT_STRING_EQUAL(q.sort[0].key->name, "title");
    CU_ASSERT_FALSE(q.sort[0].desc);
    CU_ASSERT_TRUE(q.sort[1].desc);
    CU_ASSERT_STRING_EQUAL(q.sort_text, "title,-created_at");
    /* "+" (or the space an unencoded "+" decodes to) is ascending. */
    CU_ASSERT_EQUAL_FATAL(parse(&both, "sort=+title"), KEEL_OK);
    CU_ASSERT_STRING_EQUAL(q.sort_text, "title");
    CU_ASSERT_EQUAL_FATAL(parse(&both, "sort= title"), KEEL_OK);
    CU_ASSERT_STRING_EQUAL(q.sort_text, "title");
    CU_ASSERT_EQUAL(parse(&both, "sort=password"), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(field0(), "sort");
    CU_ASSERT_EQUAL(parse(&both, "sort=title,title"), KEEL_EINVAL);
    CU_ASSERT_EQUAL(parse(&both, "sort=title,"), KEEL_EINVAL);
    CU_ASSERT_EQUAL(parse(&both, "sort="), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(field0(), "sort");
}

static void
test_fields_select_a_subset_always_with_id(void)
{
    CU_ASSERT_EQUAL_FATAL(parse(&both, "fields=title"), KEEL_OK);
    CU_ASSERT_EQUAL(q.fields, 0x3ULL); /* id and title */
    CU_ASSERT_EQUAL(parse(&both, "fields=title,nope"), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(field0(), "fields");
    CU_ASSERT_EQUAL(parse(&both, "fields="), KEEL_EINVAL);
    {
        json_object *o = json_tokener_parse(
            "{\"id\":\"x\",\"title\":\"t\",\"status\":\"s\",\"created_at\":1}");
        CU_ASSERT_EQUAL_FATAL(parse(&both, "fields=status"), KEEL_OK);
        coll_select(&q, o);
        CU_ASSERT_STRING_EQUAL(
            json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
            "{\"id\":\"x\",\"status\":\"s\"}");
        json_object_put(o);
    }
}

static void
test_page_and_cursor_together_are_400_and_count_needs_pages(void)
{
    CU_ASSERT_EQUAL(parse(&both, "page=2&cursor="), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(field0(), "cursor");
    CU_ASSERT_EQUAL(parse(&both, "cursor=&count=estimated"), KEEL_EINVAL);
    CU_ASSERT_STRING_EQUAL(field0(), "count");
    CU_ASSERT_EQUAL(parse(&both, "count=estimated"), KEEL_OK);
    CU_ASSERT_TRUE(q.estimated);
    CU_ASSERT_EQUAL(parse(&both, "count=some"), KEEL_EINVAL);
    /* An empty cursor starts cursor mode on the first page. */
    CU_ASSERT_EQUAL(parse(&both, "cursor="), KEEL_OK);
    CU_ASSERT_TRUE(q.cursor_mode);
    CU_ASSERT_FALSE(q.after);
}

static void
test_cursor_round_trips_and_refuses_any_change(void)
{
    const char *keys[2] = { "hello, \"world\"", "2026-01-01 00:00:00+00" };
    const char *cur;
    char *qs, *bad;

    CU_ASSERT_EQUAL_FATAL(parse(&both, "sort=title,-created_at&cursor="),
                          KEEL_OK);
    cur = coll_cursor(&q, keys, UUID, SECRET, &arena);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cur);
    CU_ASSERT_EQUAL(strspn(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
                                "tuvwxyz0123456789-_."),
                    strlen(cur));
    qs = arena_sprintf(&arena, "sort=title,-created_at&cursor=%s", cur);
    CU_ASSERT_EQUAL_FATAL(parse(&both, qs), KEEL_OK);
    CU_ASSERT_TRUE(q.after);
    CU_ASSERT_STRING_EQUAL(q.after_key[0], keys[0]);
    CU_ASSERT_STRING_EQUAL(q.after_key[1], keys[1]);
    CU_ASSERT_STRING_EQUAL(q.after_id, UUID);
    /* Any one character changed. */
    for (size_t i = 0; i < strlen(cur); i += 7) {
        bad = arena_strdup(&arena, cur);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        qs = arena_sprintf(&arena, "sort=title,-created_at&cursor=%s", bad);
        CU_ASSERT_EQUAL(parse(&both, qs), KEEL_EINVAL);
        CU_ASSERT_STRING_EQUAL(field0(), "cursor");
    }
    /* Another sort, another resource, another key: refused. */
    qs = arena_sprintf(&arena, "sort=title&cursor=%s", cur);
    CU_ASSERT_EQUAL(parse(&both, qs), KEEL_EINVAL);
    qs = arena_sprintf(&arena, "sort=title,-created_at&cursor=%s", cur);
    CU_ASSERT_EQUAL(parse(&cursor_only, qs), KEEL_EINVAL);
    {
        kv_t kv[2] = { { "sort", "title,-created_at" }, { "cursor", cur } };
        CU_ASSERT_EQUAL(coll_parse(&both, kv, 2,
                                   "another key of at least 32 bytes!!", &arena,
                                   &q, details),
                        KEEL_EINVAL);
        /* "" signs with the process key, which is not SECRET either. */
        CU_ASSERT_EQUAL(coll_parse(&both, kv, 2, "", &arena, &q, details),
                        KEEL_EINVAL);
    }
    CU_ASSERT_EQUAL(parse(&both, "cursor=garbage"), KEEL_EINVAL);
    CU_ASSERT_EQUAL(parse(&both, "cursor=.."), KEEL_EINVAL);
}

/* The SQL is the schema's fragments only: every value of the request is
 * a parameter, in order, and none of its text reaches the statement. */
static void
test_sql_holds_fragments_and_placeholders_only(void)
{
    const char *params[COLL_MAX_PARAMS];
    coll_cond_t extra = { "t.owner = $::uuid OR t.public", UUID, NULL };
    char *sql = NULL, *qs;
    int n = 0;

    qs = arena_sprintf(&arena,
                       "tag=%s&tag=b&status=draft&sort=title,-created_at&"
                       "fields=title&limit=7&page=3",
                       "x'); DROP TABLE things; --");
    /* The tag's text is valid: at most 8 characters is the rule broken. */
    CU_ASSERT_EQUAL(parse(&both, qs), KEEL_EINVAL);
    qs = "tag=a'b;--&tag=b&status=draft&sort=title,-created_at&fields=title&"
         "limit=7&page=3";
    CU_ASSERT_EQUAL_FATAL(parse(&both, qs), KEEL_OK);
    CU_ASSERT_EQUAL_FATAL(coll_sql(&q, &extra, 1, &sql, params, &n), KEEL_OK);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_STRING_EQUAL(params[0], "a'b;--");
    CU_ASSERT_STRING_EQUAL(params[1], "b");
    CU_ASSERT_STRING_EQUAL(params[2], "draft");
    CU_ASSERT_STRING_EQUAL(params[3], UUID);
    CU_ASSERT_PTR_NULL(strstr(sql, "a'b"));
    CU_ASSERT_PTR_NULL(strstr(sql, "draft"));
    CU_ASSERT_PTR_NULL(strstr(sql, UUID));
    CU_ASSERT_PTR_NOT_NULL(strstr(sql, "$1 = ANY (t.tags)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sql, "$2 = ANY (t.tags)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sql, "t.status = $3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sql, "t.owner = $4::uuid OR t.public"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(sql, "ORDER BY t.title, t.created_at DESC, t.public_id DESC"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sql, "LIMIT 8 OFFSET 14"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sql, "json_build_object('id', t.public_id, "
                                       "'title', t.title)"));
    free(sql);
    /* Two alternatives: OR'ed in the page, each with its own parameter. */
    {
        coll_cond_t alt = { "t.public", UUID, "t.owner = $::uuid" };
        CU_ASSERT_EQUAL_FATAL(parse(&both, "limit=2"), KEEL_OK);
        CU_ASSERT_EQUAL_FATAL(coll_sql(&q, &alt, 1, &sql, params, &n), KEEL_OK);
        CU_ASSERT_EQUAL(n, 1);
        CU_ASSERT_PTR_NOT_NULL(
            strstr(sql, "AND ((t.public) OR (t.owner = $1::uuid))"));
        free(sql);
    }
    /* A cursor page: the keys and the id are parameters with their casts. */
    {
        const char *keys[1] = { "it's" };
        const char *cur;
        CU_ASSERT_EQUAL_FATAL(parse(&both, "sort=title&cursor="), KEEL_OK);
        cur = coll_cursor(&q, keys, UUID, SECRET, &arena);
        qs = arena_sprintf(&arena, "sort=title&cursor=%s", cur);
        CU_ASSERT_EQUAL_FATAL(parse(&both, qs), KEEL_OK);
        CU_ASSERT_EQUAL_FATAL(coll_sql(&q, NULL, 0, &sql, params, &n), KEEL_OK);
        CU_ASSERT_EQUAL(n, 2);
        CU_ASSERT_STRING_EQUAL(params[0], "it's");
        CU_ASSERT_PTR_NULL(strstr(sql, "it's"));
        CU_ASSERT_PTR_NOT_NULL(
            strstr(sql, "(t.title, t.public_id) > ($1::text, $2::uuid)"));
        CU_ASSERT_PTR_NULL(strstr(sql, "OFFSET"));
        free(sql);
        /* Mixed directions expand into an OR of prefixes. */
        CU_ASSERT_EQUAL_FATAL(parse(&both, "sort=title,-created_at&cursor="),
                              KEEL_OK);
        {
            const char *k2[2] = { "a", "2026-01-01 00:00:00+00" };
            cur = coll_cursor(&q, k2, UUID, SECRET, &arena);
        }
        qs = arena_sprintf(&arena, "sort=title,-created_at&cursor=%s", cur);
        CU_ASSERT_EQUAL_FATAL(parse(&both, qs), KEEL_OK);
        CU_ASSERT_EQUAL_FATAL(coll_sql(&q, NULL, 0, &sql, params, &n), KEEL_OK);
        CU_ASSERT_PTR_NOT_NULL(strstr(
            sql, "(t.title > $1::text) OR (t.title = $2::text AND "
                 "t.created_at < $3::timestamptz) OR (t.title = $4::text AND "
                 "t.created_at = $5::timestamptz AND t.public_id < $6::uuid)"));
        CU_ASSERT_EQUAL(n, 6);
        free(sql);
    }
}

static int
setup(void)
{
    arena_init(&arena);
    return 0;
}

static const unit_test_t tests[] = {
    { "defaults: offset, page 1, limit 20, newest first",
      test_defaults_are_offset_page_one_limit_20_newest_first },
    { "limit outside 1..100 is a detail naming limit",
      test_limit_outside_1_to_100_names_limit },
    { "unknown and repeated parameters are 400",
      test_unknown_and_repeated_parameters_are_400 },
    { "filters are typed", test_filters_are_typed },
    { "sort is whitelisted, with - and +",
      test_sort_is_whitelisted_with_direction },
    { "fields select a subset, always with id",
      test_fields_select_a_subset_always_with_id },
    { "page with cursor is 400; count needs pages",
      test_page_and_cursor_together_are_400_and_count_needs_pages },
    { "a cursor round-trips and refuses any change",
      test_cursor_round_trips_and_refuses_any_change },
    { "the SQL holds fragments and placeholders only",
      test_sql_holds_fragments_and_placeholders_only },
};

int
main(void)
{
    setup();
    return unit_run("collection query language", UNIT_TESTS(tests));
}
