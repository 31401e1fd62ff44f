/*
 * hashgate.h - a cap on how many password hashes run at once across all
 * worker processes (DESIGN.md §1).
 *
 * argon2id is the one CPU-heavy request step: a burst of logins on every
 * worker thread would otherwise take every core and starve the cheap
 * requests.  The gate is a table of slots in shared memory, mapped by the
 * master before it forks; a hash runs only while it holds a slot.  A slot
 * is one word holding its owner's pid, taken and given back with atomic
 * compare-and-swap, so no lock exists that a dying worker could leave
 * held: the master frees a dead worker's slots when it reaps it, and a
 * caller that finds no free slot also frees slots whose owner is gone.
 * A caller waits a bounded time for a slot, then gives up (the request
 * gets 503 with Retry-After): excess work is refused, never queued
 * without bound.
 */
#ifndef KEEL_AUTH_HASHGATE_H
#define KEEL_AUTH_HASHGATE_H

#include <sys/types.h>

/* The most slots; [auth] hash_concurrency is at most this. */
#define HASHGATE_MAX 64

/*
 * Map the table (first call) and set how many slots are in use: `limit`
 * in 1..HASHGATE_MAX, or 0 for the number of online CPUs.  The master
 * calls it before forking and again on reload.  Returns 0, or -1 when no
 * table could be mapped (hashing is then not capped, logged).
 */
int hashgate_init(int limit);

/* The slots in use, 0 when there is no table (no cap). */
int hashgate_limit(void);

/*
 * Take a slot, waiting at most `wait` seconds.  Returns the slot (>= 0),
 * HASHGATE_OPEN when there is no table (nothing to give back), or -1 when
 * no slot came free in time.
 */
#define HASHGATE_OPEN (-2)
int hashgate_enter(double wait);

/* Give back a slot hashgate_enter returned (a no-op for -1 and OPEN). */
void hashgate_leave(int slot);

/* Free every slot `pid` holds: the master calls this when it reaps a
 * worker, so a worker killed mid-hash never keeps its slot. */
void hashgate_forget(pid_t pid);

/* Slots held right now (for tests and status). */
int hashgate_busy(void);

#endif
