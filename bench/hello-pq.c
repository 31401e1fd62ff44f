/*
 * hello-pq.c - the cost floor of a 1-query endpoint for bench/run.sh.
 *
 * A bare libfcgi responder like hello-fcgi.c, plus what any endpoint that
 * reads one row must do: one prepared primary-key lookup through libpq and
 * a JSON body built with json-c.  No routing, logging, pool or arena of its
 * own.  Whatever keeld's GET /test/bench-items/{id} costs above this is
 * keel's (notes/performance.md).
 *
 *     hello-pq SOCKET [PROCESSES]
 *
 * SOCKET is bound with FCGX_OpenSocket(): a unix socket path (unlinked
 * first!) or host:port.  PROCESSES (default 4) processes share the socket;
 * each connects to PostgreSQL after fork with PQconnectdb("") (so the PG*
 * environment variables apply), prepares the statement once and runs one
 * accept loop.  The id is the last path segment of REQUEST_URI:
 * GET /anything/42 answers 200 {"data":{"id":42,"name":"...",
 * "price_cents":N}}, or 404 for an id outside 1..2^31-1 or with no row.
 * SIGTERM or SIGINT to the parent stops them all.
 *
 * Set LIBFCGI_OS_CLOSE_POLL_TIMEOUT=0 in the environment to switch off
 * libfcgi's lingering close, as keeld does for its workers.
 *
 * Build: make bench/hello-pq
 */
#include <errno.h>
#include <fcgiapp.h>
#include <json-c/json.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define MAX_PROCS 1024

static const char sql[] =
    "SELECT id, name, price_cents FROM bench_items WHERE id = $1";

static const char ok[] = "Status: 200 OK\r\n"
                         "Content-Type: application/json\r\n"
                         "\r\n";

static const char not_found[] =
    "Status: 404 Not Found\r\n"
    "Content-Type: application/json\r\n"
    "\r\n"
    "{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"Not found\"}}";

static const char failed[] = "Status: 500 Internal Server Error\r\n"
                             "Content-Type: application/json\r\n"
                             "\r\n"
                             "{\"error\":{\"code\":\"INTERNAL_ERROR\"}}";

static PGconn *
connect_db(void)
{
    PGconn *db = PQconnectdb("");
    PGresult *res;

    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "hello-pq: %s", PQerrorMessage(db));
        _exit(1);
    }
    res = PQprepare(db, "bench_item", sql, 1, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "hello-pq: prepare: %s", PQerrorMessage(db));
        _exit(1);
    }
    PQclear(res);
    return db;
}

/* The id: the last path segment of REQUEST_URI, 1..2^31-1, or 0. */
static long
request_id(FCGX_Request *r, char *buf, size_t len)
{
    const char *uri = FCGX_GetParam("REQUEST_URI", r->envp);
    const char *seg, *end;
    char *stop;
    long v;

    if (uri == NULL)
        return 0;
    end = uri + strcspn(uri, "?#");
    seg = end;
    while (seg > uri && seg[-1] != '/')
        seg--;
    if (end == seg || (size_t)(end - seg) >= len || *seg < '0' || *seg > '9')
        return 0;
    memcpy(buf, seg, (size_t)(end - seg));
    buf[end - seg] = '\0';
    errno = 0;
    v = strtol(buf, &stop, 10);
    if (errno != 0 || *stop != '\0' || v < 1 || v > INT32_MAX)
        return 0;
    snprintf(buf, len, "%ld", v);
    return v;
}

static void
respond(FCGX_Request *r, PGconn *db)
{
    char id[24];
    const char *params[1] = { id };
    PGresult *res;
    json_object *root, *o;
    const char *body;
    size_t n = 0;

    if (request_id(r, id, sizeof(id)) == 0) {
        FCGX_PutStr(not_found, (int)sizeof(not_found) - 1, r->out);
        return;
    }
    res = PQexecPrepared(db, "bench_item", 1, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        FCGX_PutStr(failed, (int)sizeof(failed) - 1, r->out);
        PQclear(res);
        return;
    }
    if (PQntuples(res) != 1) {
        FCGX_PutStr(not_found, (int)sizeof(not_found) - 1, r->out);
        PQclear(res);
        return;
    }
    o = json_object_new_object();
    json_object_object_add(o, "id",
                           json_object_new_int(atoi(PQgetvalue(res, 0, 0))));
    json_object_object_add(o, "name",
                           json_object_new_string_len(PQgetvalue(res, 0, 1),
                                                      PQgetlength(res, 0, 1)));
    json_object_object_add(o, "price_cents",
                           json_object_new_int(atoi(PQgetvalue(res, 0, 2))));
    PQclear(res);
    root = json_object_new_object();
    json_object_object_add(root, "data", o);
    body = json_object_to_json_string_length(
        root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    FCGX_PutStr(ok, (int)sizeof(ok) - 1, r->out);
    FCGX_PutStr(body, (int)n, r->out);
    json_object_put(root);
}

static void
serve(int listen_fd)
{
    FCGX_Request r;
    PGconn *db = connect_db();

    if (FCGX_InitRequest(&r, listen_fd, 0) != 0)
        _exit(1);
    while (FCGX_Accept_r(&r) >= 0) {
        respond(&r, db);
        if (PQstatus(db) != CONNECTION_OK) {
            /* Lost the server: the benchmark is over or broken. */
            FCGX_Finish_r(&r);
            _exit(1);
        }
    }
    PQfinish(db);
    _exit(0);
}

int
main(int argc, char **argv)
{
    static pid_t pids[MAX_PROCS];
    long nprocs = 4;
    int listen_fd, alive = 0;
    pid_t parent = getpid();
    sigset_t set;
    int sig;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s SOCKET [PROCESSES]\n", argv[0]);
        return 2;
    }
    if (argc > 2) {
        char *end;
        nprocs = strtol(argv[2], &end, 10);
        if (*end != '\0' || nprocs < 1 || nprocs > MAX_PROCS) {
            fprintf(stderr, "%s: PROCESSES must be 1..%d\n", argv[0],
                    MAX_PROCS);
            return 2;
        }
    }

    /* As in hello-fcgi.c: signals blocked before FCGX_Init(). */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if (FCGX_Init() != 0) {
        fprintf(stderr, "%s: FCGX_Init failed\n", argv[0]);
        return 1;
    }
    listen_fd = FCGX_OpenSocket(argv[1], 1024);
    if (listen_fd < 0) {
        fprintf(stderr, "%s: cannot open %s: %s\n", argv[0], argv[1],
                strerror(errno));
        return 1;
    }

    for (long i = 0; i < nprocs; i++) {
        pid_t pid = fork();

        if (pid < 0) {
            perror("fork");
            break;
        }
        if (pid == 0) {
            signal(SIGTERM, SIG_DFL);
            signal(SIGINT, SIG_DFL);
            sigprocmask(SIG_UNBLOCK, &set, NULL);
#ifdef __linux__
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent)
                _exit(0);
#endif
            serve(listen_fd);
        }
        pids[alive++] = pid;
    }

    while (alive > 0) {
        pid_t pid;

        if (sigwait(&set, &sig) != 0 || sig != SIGCHLD)
            break;
        while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
            for (int i = 0; i < alive; i++) {
                if (pids[i] == pid) {
                    pids[i] = pids[--alive];
                    break;
                }
            }
        }
    }
    for (int i = 0; i < alive; i++)
        kill(pids[i], SIGTERM);
    while (wait(NULL) > 0)
        ;
    return 0;
}
