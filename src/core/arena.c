/* arena.c - bump allocator over a list of chunks. */
#include "keel-build.h"

#include "core/arena.h"
#include "core/util.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK 16384

struct arena_chunk {
    arena_chunk_t *next;
    size_t size;
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

static arena_chunk_t *
chunk_new(size_t size)
{
    arena_chunk_t *c = xmalloc(sizeof(*c) + size);
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

void
arena_init(arena_t *a)
{
    a->spare = chunk_new(ARENA_CHUNK);
    a->head = a->spare;
}

void
arena_reset(arena_t *a)
{
    arena_chunk_t *c = a->head;

    while (c != NULL && c != a->spare) {
        arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    if (a->spare != NULL)
        a->spare->used = 0;
    a->head = a->spare;
}

void
arena_destroy(arena_t *a)
{
    arena_reset(a);
    free(a->spare);
    a->spare = a->head = NULL;
}

void *
arena_alloc(arena_t *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    arena_chunk_t *c = a->head;
    size_t off;

    if (c == NULL) {
        arena_init(a);
        c = a->head;
    }
    off = (c->used + align - 1) & ~(align - 1);
    if (off + n > c->size) {
        /* Chunks are pushed in front; the first chunk stays last. */
        arena_chunk_t *nc = chunk_new(n > ARENA_CHUNK ? n : ARENA_CHUNK);
        nc->next = c;
        a->head = nc;
        c = nc;
        off = 0;
    }
    c->used = off + n;
    return c->data + off;
}

void *
arena_calloc(arena_t *a, size_t n)
{
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *
arena_strndup(arena_t *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
arena_strdup(arena_t *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *
arena_vsprintf(arena_t *a, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    char *p;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        n = 0;
    p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *
arena_sprintf(arena_t *a, const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    p = arena_vsprintf(a, fmt, ap);
    va_end(ap);
    return p;
}
