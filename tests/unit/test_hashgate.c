/*
 * test_hashgate.c - the cap on concurrent password hashing: open without
 * a table; exactly `limit` slots; a bounded wait that succeeds when a
 * slot comes free and gives up when none does; threads of one process
 * and several processes never exceed the cap; a slot whose owner died is
 * reclaimed, by the master's hashgate_forget or by the next caller.
 * The tests run in order: the first one needs the table not yet mapped.
 */
#include "keel-build.h"

#include "unit.h"
#include "auth/hashgate.h"
#include "core/util.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void
test_without_a_table_everything_is_open(void)
{
    CU_ASSERT_EQUAL(hashgate_limit(), 0);
    CU_ASSERT_EQUAL(hashgate_enter(0), HASHGATE_OPEN);
    hashgate_leave(HASHGATE_OPEN);
    CU_ASSERT_EQUAL(hashgate_busy(), 0);
}

static void
test_limit_zero_means_one_per_cpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    CU_ASSERT_EQUAL_FATAL(hashgate_init(0), 0);
    CU_ASSERT_EQUAL(hashgate_limit(), n > HASHGATE_MAX ? HASHGATE_MAX : n);
    CU_ASSERT_EQUAL(hashgate_init(1000), 0);
    CU_ASSERT_EQUAL(hashgate_limit(), HASHGATE_MAX);
}

static void
test_exactly_limit_slots_are_given(void)
{
    int a, b, c;

    hashgate_init(2);
    a = hashgate_enter(0);
    b = hashgate_enter(0);
    CU_ASSERT(a >= 0 && b >= 0 && a != b);
    CU_ASSERT_EQUAL(hashgate_busy(), 2);
    c = hashgate_enter(0);
    CU_ASSERT_EQUAL(c, -1);
    hashgate_leave(c); /* a no-op */
    hashgate_leave(a);
    CU_ASSERT_EQUAL(hashgate_busy(), 1);
    c = hashgate_enter(0);
    CU_ASSERT(c >= 0);
    hashgate_leave(b);
    hashgate_leave(c);
    CU_ASSERT_EQUAL(hashgate_busy(), 0);
}

static void *
leave_later(void *arg)
{
    usleep(100000);
    hashgate_leave(*(int *)arg);
    return NULL;
}

static void
test_a_bounded_wait(void)
{
    int held, got;
    double t0, took;
    pthread_t th;

    hashgate_init(1);
    held = hashgate_enter(0);
    CU_ASSERT_FATAL(held >= 0);
    /* Nothing comes free: gives up after about the wait. */
    t0 = time_mono();
    CU_ASSERT_EQUAL(hashgate_enter(0.05), -1);
    took = time_mono() - t0;
    CU_ASSERT(took >= 0.045 && took < 0.5);
    /* A slot that comes free during the wait is taken. */
    pthread_create(&th, NULL, leave_later, &held);
    t0 = time_mono();
    got = hashgate_enter(5);
    took = time_mono() - t0;
    CU_ASSERT(got >= 0);
    CU_ASSERT(took >= 0.09 && took < 1.0);
    pthread_join(th, NULL);
    hashgate_leave(got);
}

static _Atomic int inside, most;

static void *
hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        int s = hashgate_enter(10), now;
        if (s < 0)
            continue;
        now = atomic_fetch_add(&inside, 1) + 1;
        for (int m = atomic_load(&most); now > m;)
            if (atomic_compare_exchange_weak(&most, &m, now))
                break;
        usleep(50);
        atomic_fetch_sub(&inside, 1);
        hashgate_leave(s);
    }
    return NULL;
}

static void
test_threads_never_exceed_the_cap(void)
{
    pthread_t th[8];

    hashgate_init(3);
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, hammer, NULL);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    CU_ASSERT_EQUAL(atomic_load(&most), 3);
    CU_ASSERT_EQUAL(hashgate_busy(), 0);
}

static void
test_processes_never_exceed_the_cap(void)
{
    /* A counter every process sees: how many hold a slot at once. */
    _Atomic int *shared = mmap(NULL, 2 * sizeof(int), PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t kids[4];
    int status, clean = 1;

    CU_ASSERT_FATAL(shared != MAP_FAILED);
    hashgate_init(2);
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            for (int i = 0; i < 300; i++) {
                int s = hashgate_enter(10), now;
                if (s < 0)
                    _exit(2);
                now = atomic_fetch_add(&shared[0], 1) + 1;
                for (int m = atomic_load(&shared[1]); now > m;)
                    if (atomic_compare_exchange_weak(&shared[1], &m, now))
                        break;
                usleep(20);
                atomic_fetch_sub(&shared[0], 1);
                hashgate_leave(s);
            }
            _exit(0);
        }
    }
    for (int k = 0; k < 4; k++) {
        waitpid(kids[k], &status, 0);
        clean &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    CU_ASSERT(clean);
    CU_ASSERT_EQUAL(atomic_load(&shared[1]), 2);
    CU_ASSERT_EQUAL(hashgate_busy(), 0);
    munmap(shared, 2 * sizeof(int));
}

/* A child that takes a slot, says so, and then waits to be killed. */
static pid_t
child_holding_a_slot(void)
{
    int fd[2];
    char c;
    pid_t pid;

    if (pipe(fd) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        close(fd[0]);
        c = hashgate_enter(0) >= 0 ? 'y' : 'n';
        if (write(fd[1], &c, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(fd[1]);
    if (read(fd[0], &c, 1) != 1 || c != 'y') {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        pid = -1;
    }
    close(fd[0]);
    return pid;
}

static void
test_the_master_frees_a_dead_workers_slot(void)
{
    pid_t pid;

    hashgate_init(1);
    pid = child_holding_a_slot();
    CU_ASSERT_FATAL(pid > 0);
    CU_ASSERT_EQUAL(hashgate_busy(), 1);
    CU_ASSERT_EQUAL(hashgate_enter(0), -1);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    hashgate_forget(pid); /* what reap() does */
    CU_ASSERT_EQUAL(hashgate_busy(), 0);
    {
        int s = hashgate_enter(0);
        CU_ASSERT(s >= 0);
        hashgate_leave(s);
    }
}

static void
test_a_caller_reclaims_a_slot_whose_owner_is_gone(void)
{
    pid_t pid;
    int s;

    hashgate_init(1);
    pid = child_holding_a_slot();
    CU_ASSERT_FATAL(pid > 0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* No hashgate_forget: the next caller finds the owner gone. */
    CU_ASSERT_EQUAL(hashgate_busy(), 1);
    s = hashgate_enter(0);
    CU_ASSERT(s >= 0);
    CU_ASSERT_EQUAL(hashgate_busy(), 1);
    hashgate_leave(s);
    CU_ASSERT_EQUAL(hashgate_busy(), 0);
}

static const unit_test_t tests[] = {
    { "without a table everything is open",
      test_without_a_table_everything_is_open },
    { "limit 0 means one per CPU", test_limit_zero_means_one_per_cpu },
    { "exactly limit slots are given", test_exactly_limit_slots_are_given },
    { "a bounded wait", test_a_bounded_wait },
    { "threads never exceed the cap", test_threads_never_exceed_the_cap },
    { "processes never exceed the cap", test_processes_never_exceed_the_cap },
    { "the master frees a dead worker's slot",
      test_the_master_frees_a_dead_workers_slot },
    { "a caller reclaims a slot whose owner is gone",
      test_a_caller_reclaims_a_slot_whose_owner_is_gone },
};

int
main(void)
{
    return unit_run("hashgate", UNIT_TESTS(tests));
}
