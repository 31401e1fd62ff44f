/* rbac.c - the per-worker cache of role -> permissions. */
#include "keel-build.h"

#include "auth/rbac.h"
#include "core/util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct rbac_snapshot {
    size_t nperms;
    char perm[RBAC_MAX_PERMISSIONS][RBAC_NAME_MAX];
    size_t nroles;
    struct {
        char name[RBAC_NAME_MAX];
        uint64_t mask; /* bit i: perm[i] */
    } role[RBAC_MAX_ROLES];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static rbac_snapshot_t *current;  /* NULL until the first load */
static long long current_version; /* of `current` */
static double checked;            /* time_mono() of the last good check */
static double attempted;          /* of the last check, good or not */

keel_rc
rbac_snapshot_add(rbac_snapshot_t *s, const char *role, const char *perm)
{
    size_t r, p;

    if (strlen(role) >= RBAC_NAME_MAX ||
        (perm != NULL && strlen(perm) >= RBAC_NAME_MAX))
        return KEEL_EINVAL;
    for (r = 0; r < s->nroles; r++)
        if (strcmp(s->role[r].name, role) == 0)
            break;
    if (r == s->nroles) {
        if (r == RBAC_MAX_ROLES)
            return KEEL_EINVAL;
        memcpy(s->role[r].name, role, strlen(role) + 1);
        s->role[r].mask = 0;
        s->nroles++;
    }
    if (perm == NULL)
        return KEEL_OK;
    for (p = 0; p < s->nperms; p++)
        if (strcmp(s->perm[p], perm) == 0)
            break;
    if (p == s->nperms) {
        if (p == RBAC_MAX_PERMISSIONS)
            return KEEL_EINVAL;
        memcpy(s->perm[p], perm, strlen(perm) + 1);
        s->nperms++;
    }
    s->role[r].mask |= (uint64_t)1 << p;
    return KEEL_OK;
}

int
rbac_due(double now)
{
    int due;

    pthread_mutex_lock(&lock);
    due = current == NULL || now - attempted >= RBAC_CHECK_INTERVAL;
    pthread_mutex_unlock(&lock);
    return due;
}

keel_rc
rbac_sync(db_conn_t *c, const rbac_source_t *src, double now, db_error_t *err)
{
    rbac_snapshot_t *fresh, *old = NULL;
    long long version;
    int have;
    keel_rc rc;

    pthread_mutex_lock(&lock);
    attempted = now;
    have = current != NULL;
    pthread_mutex_unlock(&lock);
    rc = src->version(c, &version, err);
    if (rc != KEEL_OK)
        return rc;
    pthread_mutex_lock(&lock);
    if (have && current != NULL && version == current_version) {
        checked = now;
        pthread_mutex_unlock(&lock);
        return KEEL_OK;
    }
    pthread_mutex_unlock(&lock);
    /* Load outside the lock; the version read first, so a change made
     * during the load is seen again at the next check. */
    fresh = xcalloc(1, sizeof(*fresh));
    rc = src->load(c, fresh, err);
    if (rc != KEEL_OK) {
        free(fresh);
        return rc;
    }
    pthread_mutex_lock(&lock);
    old = current;
    current = fresh;
    current_version = version;
    checked = now;
    pthread_mutex_unlock(&lock);
    free(old);
    return KEEL_OK;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

keel_rc
rbac_resolve(const char *const *roles, size_t nroles, double now, arena_t *a,
             const char *const **perms, size_t *nperms)
{
    uint64_t mask = 0;
    const char **out;
    size_t n = 0;

    pthread_mutex_lock(&lock);
    if (current == NULL || now - checked > RBAC_MAX_STALENESS) {
        pthread_mutex_unlock(&lock);
        return KEEL_EUNAVAIL;
    }
    for (size_t i = 0; i < nroles; i++)
        for (size_t r = 0; r < current->nroles; r++)
            if (strcmp(current->role[r].name, roles[i]) == 0)
                mask |= current->role[r].mask;
    out = arena_alloc(a, (current->nperms + 1) * sizeof(*out));
    for (size_t p = 0; p < current->nperms; p++)
        if (mask & ((uint64_t)1 << p))
            out[n++] = arena_strdup(a, current->perm[p]);
    pthread_mutex_unlock(&lock);
    qsort(out, n, sizeof(*out), cmp_str);
    *perms = out;
    *nperms = n;
    return KEEL_OK;
}

void
rbac_invalidate(void)
{
    pthread_mutex_lock(&lock);
    attempted = 0;
    current_version = -1;
    pthread_mutex_unlock(&lock);
}
