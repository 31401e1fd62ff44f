/*
 * arena.h - request-scoped memory (STYLE.md rule 4).
 *
 * Everything a request allocates comes from its arena and is released in
 * one arena_reset() when the request ends.  Allocation never fails (the
 * process aborts on out-of-memory).  Not thread-safe: one arena per thread.
 */
#ifndef KEEL_CORE_ARENA_H
#define KEEL_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct arena_chunk arena_chunk_t;

typedef struct arena {
    arena_chunk_t *head;  /* chunk being filled */
    arena_chunk_t *spare; /* first chunk, kept across resets */
} arena_t;

void arena_init(arena_t *a);
/* Release every allocation but keep the first chunk for the next request. */
void arena_reset(arena_t *a);
/* Release everything, including the first chunk. */
void arena_destroy(arena_t *a);

/* Memory aligned for any type, valid until the next reset. */
void *arena_alloc(arena_t *a, size_t n);
void *arena_calloc(arena_t *a, size_t n);
char *arena_strdup(arena_t *a, const char *s);
char *arena_strndup(arena_t *a, const char *s, size_t n);
char *arena_sprintf(arena_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *arena_vsprintf(arena_t *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
