/* keys.c - a worker's token keys and dummy hash; the keys' config check. */
#include "keel-build.h"

#include "auth/keys.h"
#include "core/util.h"

keel_rc
auth_worker_keys_load(const keel_config_t *cfg, auth_worker_keys_t *wk,
                      char *err, size_t errlen)
{
    keel_rc rc = auth_keys_load(cfg, &wk->keys, err, errlen);

    if (rc != KEEL_OK)
        return rc;
    if (password_dummy_hash(cfg, wk->dummy_hash) != KEEL_OK) {
        keel_seterr(err, errlen, "cannot compute the dummy password hash");
        return KEEL_EINTERNAL;
    }
    return KEEL_OK;
}

keel_rc
auth_check_config(const keel_config_t *cfg, char *err, size_t errlen)
{
    auth_keys_t k;
    keel_rc rc = auth_keys_load(cfg, &k, err, errlen);

    if (rc == KEEL_OK)
        auth_keys_free(&k);
    return rc;
}
