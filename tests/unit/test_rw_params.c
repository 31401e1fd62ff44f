/* test_rw_params.c - Conduit's pure parameter logic (examples/realworld/
 * params.h): slugs from titles, limit/offset of the list pages, tag lists. */
#include "keel-build.h"

#include "unit.h"
#include "../../examples/realworld/params.h"

#include <string.h>

static const char *
slug(const char *title)
{
    static char out[RW_SLUG_MAX + 1];

    rw_slugify(title, out);
    return out;
}

static void
test_slug_lowercases_letters_and_joins_words_with_one_dash(void)
{
    CU_ASSERT_STRING_EQUAL(slug("Test Article 123"), "test-article-123");
    CU_ASSERT_STRING_EQUAL(slug("How to   train -- your Dragon"),
                           "how-to-train-your-dragon");
}

static void
test_slug_has_no_dash_at_either_end(void)
{
    CU_ASSERT_STRING_EQUAL(slug("  ...Hello, World!  "), "hello-world");
    CU_ASSERT_STRING_EQUAL(slug("-a-"), "a");
}

static void
test_slug_turns_non_ascii_characters_into_separators(void)
{
    /* "Café über" in UTF-8: only [a-z0-9-] is kept. */
    CU_ASSERT_STRING_EQUAL(slug("Caf\xc3\xa9 \xc3\xbc"
                                "ber"),
                           "caf-ber");
    CU_ASSERT_STRING_EQUAL(slug("na\xc3\xafve"), "na-ve");
}

static void
test_slug_of_a_title_without_letters_or_digits_is_article(void)
{
    CU_ASSERT_STRING_EQUAL(slug(""), "article");
    CU_ASSERT_STRING_EQUAL(slug("?!  --"), "article");
    CU_ASSERT_STRING_EQUAL(slug("\xe6\x97\xa5\xe6\x9c\xac"), "article");
}

static void
test_slug_is_cut_to_its_bound_without_a_trailing_dash(void)
{
    char title[400], want[RW_SLUG_MAX + 1];
    const char *s;

    /* "ab ab ab ...": the cut may fall on a separator. */
    for (size_t i = 0; i < 130; i++)
        memcpy(title + 3 * i, "ab ", 3);
    title[390] = '\0';
    s = slug(title);
    CU_ASSERT(strlen(s) <= RW_SLUG_MAX);
    CU_ASSERT(s[strlen(s) - 1] != '-');
    CU_ASSERT_EQUAL(strncmp(s, "ab-ab-", 6), 0);
    memset(title, 'x', 300);
    title[300] = '\0';
    memset(want, 'x', RW_SLUG_MAX);
    want[RW_SLUG_MAX] = '\0';
    CU_ASSERT_STRING_EQUAL(slug(title), want);
}

static void
test_only_feed_is_a_reserved_slug(void)
{
    CU_ASSERT_TRUE(rw_slug_reserved("feed"));
    CU_ASSERT_TRUE(rw_slug_reserved(slug("Feed")));
    CU_ASSERT_FALSE(rw_slug_reserved("feed-1"));
    CU_ASSERT_FALSE(rw_slug_reserved("feeds"));
}

static void
test_page_defaults_to_twenty_from_the_start(void)
{
    long l = -1, o = -1;
    const char *field = NULL, *why = NULL;

    CU_ASSERT_EQUAL(rw_page_parse(NULL, NULL, &l, &o, &field, &why), KEEL_OK);
    CU_ASSERT_EQUAL(l, RW_LIMIT_DEFAULT);
    CU_ASSERT_EQUAL(o, 0);
    CU_ASSERT_EQUAL(RW_LIMIT_DEFAULT, 20);
}

static void
test_page_takes_limit_and_offset_within_their_bounds(void)
{
    long l, o;
    const char *field, *why;

    CU_ASSERT_EQUAL(rw_page_parse("1", "1", &l, &o, &field, &why), KEEL_OK);
    CU_ASSERT_EQUAL(l, 1);
    CU_ASSERT_EQUAL(o, 1);
    CU_ASSERT_EQUAL(rw_page_parse("100", "100000", &l, &o, &field, &why),
                    KEEL_OK);
    CU_ASSERT_EQUAL(l, RW_LIMIT_MAX);
    CU_ASSERT_EQUAL(o, RW_OFFSET_MAX);
    CU_ASSERT_EQUAL(rw_page_parse("007", "0", &l, &o, &field, &why), KEEL_OK);
    CU_ASSERT_EQUAL(l, 7);
    CU_ASSERT_EQUAL(o, 0);
}

static void
test_page_refuses_a_bad_limit_naming_it(void)
{
    static const char *const bad[] = { "0",
                                       "101",
                                       "-1",
                                       "abc",
                                       "",
                                       "1.5",
                                       " 5",
                                       "5 ",
                                       "+5",
                                       "1e2",
                                       "99999999999999999999999999" };
    long l = 42, o = 42;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *field = NULL, *why = NULL;
        CU_ASSERT_EQUAL(rw_page_parse(bad[i], NULL, &l, &o, &field, &why),
                        KEEL_EINVAL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(field);
        CU_ASSERT_STRING_EQUAL(field, "limit");
        CU_ASSERT_PTR_NOT_NULL(why);
    }
    /* Nothing is written on failure. */
    CU_ASSERT_EQUAL(l, 42);
    CU_ASSERT_EQUAL(o, 42);
}

static void
test_page_refuses_a_bad_offset_naming_it(void)
{
    static const char *const bad[] = { "-1",  "100001",
                                       "x",   "",
                                       "1,2", "99999999999999999999999999" };
    long l, o;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *field = NULL, *why = NULL;
        CU_ASSERT_EQUAL(rw_page_parse("10", bad[i], &l, &o, &field, &why),
                        KEEL_EINVAL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(field);
        CU_ASSERT_STRING_EQUAL(field, "offset");
    }
}

/* rw_tags_normalise of the JSON array `in`, serialized. */
static char *
tags(const char *in)
{
    static char buf[512];
    json_object *list = json_tokener_parse(in);
    json_object *out = rw_tags_normalise(list);

    snprintf(buf, sizeof(buf), "%s",
             json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
    json_object_put(out);
    json_object_put(list);
    return buf;
}

static void
test_tags_keep_the_order_given(void)
{
    CU_ASSERT_STRING_EQUAL(tags("[\"t_1\",\"d_1\",\"a\"]"),
                           "[\"t_1\",\"d_1\",\"a\"]");
}

static void
test_tags_lose_outer_blanks_and_later_repeats(void)
{
    CU_ASSERT_STRING_EQUAL(tags("[\" dragons \",\"x\",\"dragons\",\"x\\t\"]"),
                           "[\"dragons\",\"x\"]");
    /* Case counts: two tags. */
    CU_ASSERT_STRING_EQUAL(tags("[\"Go\",\"go\"]"), "[\"Go\",\"go\"]");
    /* A tag is not a prefix of another. */
    CU_ASSERT_STRING_EQUAL(tags("[\"ab\",\"a\"]"), "[\"ab\",\"a\"]");
}

static void
test_tags_drop_blank_ones_and_an_empty_list_stays_empty(void)
{
    CU_ASSERT_STRING_EQUAL(tags("[\"  \",\"a\",\"\"]"), "[\"a\"]");
    CU_ASSERT_STRING_EQUAL(tags("[]"), "[]");
    CU_ASSERT_STRING_EQUAL(tags("null"), "[]");
}

static const unit_test_t tests[] = {
    { "a slug lower-cases letters and joins words with one dash",
      test_slug_lowercases_letters_and_joins_words_with_one_dash },
    { "a slug has no dash at either end", test_slug_has_no_dash_at_either_end },
    { "a slug turns non-ASCII characters into separators",
      test_slug_turns_non_ascii_characters_into_separators },
    { "the slug of a title without letters or digits is \"article\"",
      test_slug_of_a_title_without_letters_or_digits_is_article },
    { "a slug is cut to RW_SLUG_MAX without a trailing dash",
      test_slug_is_cut_to_its_bound_without_a_trailing_dash },
    { "only \"feed\" is a reserved slug", test_only_feed_is_a_reserved_slug },
    { "a page defaults to 20 articles from the start",
      test_page_defaults_to_twenty_from_the_start },
    { "a page takes limit 1..100 and offset 0..100000",
      test_page_takes_limit_and_offset_within_their_bounds },
    { "a bad limit is refused, naming limit",
      test_page_refuses_a_bad_limit_naming_it },
    { "a bad offset is refused, naming offset",
      test_page_refuses_a_bad_offset_naming_it },
    { "tags keep the order given", test_tags_keep_the_order_given },
    { "tags lose outer blanks and later repeats",
      test_tags_lose_outer_blanks_and_later_repeats },
    { "blank tags are dropped and an empty list stays empty",
      test_tags_drop_blank_ones_and_an_empty_list_stays_empty },
};

int
main(void)
{
    return unit_run("rw_params", UNIT_TESTS(tests));
}
