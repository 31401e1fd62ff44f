/*
 * fuzz_config.c - the keel.conf parser over arbitrary text, then the checks
 * across keys, the comparison a reload makes, and KEEL_<SECTION>_<KEY>
 * overrides taken from the same text's lines.
 */
#include "keel-build.h"

#include "fuzz.h"

#define MAX_LINES 128

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    keel_config_t def, cfg;
    char *text = fuzz_cstr(data, size), *lines[MAX_LINES];
    char err[512] = "", which[256];
    keel_rc rc;

    config_defaults(&def);
    config_defaults(&cfg);
    rc = config_parse(&cfg, text, "fuzz.conf", err, sizeof(err));
    if (rc == KEEL_OK) {
        if (config_check(&cfg, err, sizeof(err)) == KEEL_OK)
            FUZZ_CHECK(config_workers(&cfg) >= 1);
        (void)config_diff(&def, &cfg, which, sizeof(which));
        fuzz_split(text, strlen(text), '\n', lines, MAX_LINES);
        err[0] = '\0';
        if (config_apply_env(&cfg, lines, err, sizeof(err)) != KEEL_OK)
            FUZZ_CHECK(err[0] != '\0');
    } else {
        FUZZ_CHECK(rc == KEEL_EINVAL && err[0] != '\0');
    }
    config_free(&cfg);
    config_free(&def);
    free(text);
    return 0;
}
