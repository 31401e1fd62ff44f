/*
 * argon2-rate.c - argon2id hashes per second with keel's parameters on
 * THREADS threads for SECONDS seconds: the ceiling of login throughput
 * (every login verifies one hash).  Usage: argon2-rate M_KIB T P THREADS
 * SECONDS.  Prints "hashes/s N".
 */
#include <argon2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static unsigned m, t, p;
static double seconds;

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
run(void *arg)
{
    long *count = arg;
    unsigned char salt[16] = "bench-salt-0123";
    char enc[160];
    double end = now() + seconds;

    while (now() < end) {
        if (argon2id_hash_encoded(t, m, p, "correct horse battery", 21, salt,
                                  sizeof(salt), 32, enc,
                                  sizeof(enc)) != ARGON2_OK)
            return NULL;
        (*count)++;
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    pthread_t th[64];
    long counts[64] = { 0 }, total = 0;
    int n;

    if (argc != 6)
        return 2;
    m = (unsigned)atoi(argv[1]);
    t = (unsigned)atoi(argv[2]);
    p = (unsigned)atoi(argv[3]);
    n = atoi(argv[4]);
    seconds = atof(argv[5]);
    if (n < 1 || n > 64)
        return 2;
    for (int i = 0; i < n; i++)
        pthread_create(&th[i], NULL, run, &counts[i]);
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        total += counts[i];
    }
    printf("hashes/s %.1f\n", (double)total / seconds);
    return 0;
}
