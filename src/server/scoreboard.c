/* scoreboard.c - the master/worker shared-memory slots. */
#include "keel-build.h"

#include "server/scoreboard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *const sb_reason_names[SB_REASONS] = {
    "crashed",         "fatal",         "recycled",
    "request_timeout", "start_timeout", "stopped"
};

static size_t
sb_size(size_t nslots)
{
    return sizeof(scoreboard_t) + nslots * sizeof(sb_worker_t);
}

scoreboard_t *
scoreboard_create(size_t nslots, const char *path)
{
    scoreboard_t *sb;
    int fd = -1;

    if (path != NULL) {
        unlink(path); /* a stale one may be mapped by an old keelctl */
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (fd < 0 || ftruncate(fd, (off_t)sb_size(nslots)) != 0) {
            if (fd >= 0)
                close(fd);
            return NULL;
        }
    }
    sb = mmap(NULL, sb_size(nslots), PROT_READ | PROT_WRITE,
              fd >= 0 ? MAP_SHARED : MAP_SHARED | MAP_ANONYMOUS, fd, 0);
    if (fd >= 0)
        close(fd);
    if (sb == MAP_FAILED)
        return NULL;
    /* New pages (anonymous, or a file just extended) are zero. */
    sb->slot_size = sizeof(sb_worker_t);
    sb->nslots = nslots;
    sb->started = (long long)time(NULL);
    atomic_store(&sb->listen_queue, -1);
    sb->magic = SB_MAGIC;
    return sb;
}

const scoreboard_t *
scoreboard_open(const char *path)
{
    struct stat st;
    scoreboard_t *sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(scoreboard_t)) {
        close(fd);
        errno = EPROTO;
        return NULL;
    }
    sb = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (sb == MAP_FAILED)
        return NULL;
    if (sb->magic != SB_MAGIC || sb->slot_size != sizeof(sb_worker_t) ||
        sb_size(sb->nslots) != (size_t)st.st_size) {
        munmap(sb, (size_t)st.st_size);
        errno = EPROTO;
        return NULL;
    }
    return sb;
}

void
scoreboard_close(const scoreboard_t *sb)
{
    if (sb != NULL)
        munmap((void *)sb, sb_size(sb->nslots));
}

void
scoreboard_path(const char *pid_file, char *out, size_t len)
{
    snprintf(out, len, "%s.status", pid_file);
}

void
scoreboard_destroy(scoreboard_t *sb)
{
    if (sb != NULL)
        munmap(sb, sb_size(sb->nslots));
}

long long
scoreboard_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

const char *const sb_phase_names[] = { "reading", "processing", "writing" };

void
scoreboard_phase(sb_worker_t *w, int t, enum sb_phase phase)
{
    atomic_store_explicit(&w->threads[t].phase, (int)phase,
                          memory_order_relaxed);
}

void
scoreboard_begin(sb_worker_t *w, int t)
{
    sb_thread_t *s = &w->threads[t];

    atomic_store_explicit(&s->phase, SB_READING, memory_order_relaxed);
    strcpy(s->request_id, "-");
    s->method[0] = '\0';
    s->path[0] = '\0';
    s->route[0] = '\0';
    atomic_store_explicit(&s->started_ns, scoreboard_now_ns(),
                          memory_order_release);
}

void
scoreboard_label(sb_worker_t *w, int t, const char *request_id,
                 const char *method, const char *path)
{
    sb_thread_t *s = &w->threads[t];

    /* Read by the master without a lock: a torn copy only mars a log line,
     * and the watchdog re-checks started_ns around its copy. */
    snprintf(s->request_id, sizeof(s->request_id), "%s", request_id);
    snprintf(s->method, sizeof(s->method), "%s", method ? method : "");
    snprintf(s->path, sizeof(s->path), "%s", path ? path : "");
}

void
scoreboard_route(void *thread, const char *pattern)
{
    sb_thread_t *s = thread;

    snprintf(s->route, sizeof(s->route), "%s", pattern ? pattern : "");
}

void
scoreboard_end(sb_worker_t *w, int t, int served)
{
    atomic_store_explicit(&w->threads[t].started_ns, 0, memory_order_release);
    if (served)
        atomic_fetch_add_explicit(&w->requests, 1, memory_order_relaxed);
}
