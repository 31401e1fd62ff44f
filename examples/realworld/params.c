/* params.c - slugs, pages and tag lists (params.h). */
#include "keel-build.h"

#include "params.h"
#include "core/util.h"
#include "core/validate.h"

#include <string.h>

size_t
rw_slugify(const char *title, char *out)
{
    size_t n = 0;
    int gap = 0;

    for (const unsigned char *p = (const unsigned char *)title; *p; p++) {
        unsigned char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            gap = n > 0;
            continue;
        }
        /* The separator and the character must both fit. */
        if (n + (size_t)gap + 1 > RW_SLUG_MAX)
            break;
        if (gap)
            out[n++] = '-';
        gap = 0;
        out[n++] = (char)c;
    }
    if (n == 0) {
        strcpy(out, "article");
        return strlen(out);
    }
    out[n] = '\0';
    return n;
}

int
rw_slug_reserved(const char *slug)
{
    return strcmp(slug, "feed") == 0;
}

keel_rc
rw_page_parse(const char *limit, const char *offset, long *out_limit,
              long *out_offset, const char **field, const char **why)
{
    long long l = RW_LIMIT_DEFAULT, o = 0;

    if (limit != NULL && parse_ll(limit, 1, RW_LIMIT_MAX, &l) != 0) {
        *field = "limit";
        *why = "must be an integer from 1 to 100";
        return KEEL_EINVAL;
    }
    if (offset != NULL && parse_ll(offset, 0, RW_OFFSET_MAX, &o) != 0) {
        *field = "offset";
        *why = "must be an integer from 0 to 100000";
        return KEEL_EINVAL;
    }
    *out_limit = (long)l;
    *out_offset = (long)o;
    return KEEL_OK;
}

json_object *
rw_tags_normalise(json_object *list)
{
    json_object *out = json_object_new_array();
    size_t n = list != NULL ? json_object_array_length(list) : 0;

    for (size_t i = 0; i < n; i++) {
        const char *s =
            json_object_get_string(json_object_array_get_idx(list, i));
        size_t len = s != NULL ? strlen(s) : 0;
        size_t seen = json_object_array_length(out), j;

        while (len > 0 && valid_blank(*s)) {
            s++;
            len--;
        }
        while (len > 0 && valid_blank(s[len - 1]))
            len--;
        if (len == 0)
            continue;
        for (j = 0; j < seen; j++) {
            json_object *t = json_object_array_get_idx(out, j);
            if ((size_t)json_object_get_string_len(t) == len &&
                memcmp(json_object_get_string(t), s, len) == 0)
                break;
        }
        if (j == seen)
            json_object_array_add(out, json_object_new_string_len(s, (int)len));
    }
    return out;
}
