/* Unit tests for common/wq.c, the bounded worker queue under mockca's validation and
 * issuance queues: every job runs exactly once (in push order with one worker); a full
 * queue refuses and says how many wait; stop drops queued jobs through drop, wakes handlers
 * asleep in wq_sleep and refuses pushes; jobs pushed from several threads at once are
 * neither lost nor doubled; a handler that outlives wq_free's wait is abandoned safely; an
 * emptied ring starts over at slot 0. Every job owns a heap buffer, so a job that is both
 * run and dropped (or neither) shows as a double free or a leak under ASan. Waits that a
 * stop must cut short are a day long: if the stop did not wake them, the test times out.
 * The .c is included to read the ring's head. */
#include "../../common/wq.c"

#include <check.h>
#include <stdatomic.h>
#include <stdlib.h>

#define T_MAX_JOBS 4096
#define T_WAIT_TICKS 10000 /* 1 ms each: bounded waits for the workers */

enum t_kind { T_RECORD, T_GATE, T_SLEEP, T_SPIN };

struct t_job {
    int id;
    enum t_kind kind;
    char *owned; /* heap; freed by the handler or by drop, never both */
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_order[T_MAX_JOBS]; /* ids in the order handlers saw them; under g_mu */
static int g_n_order;
static atomic_int g_seen[T_MAX_JOBS]; /* runs per id */
static atomic_int g_ran, g_dropped, g_ctx_freed;
static atomic_int g_gate;       /* T_GATE and T_SPIN handlers wait for this */
static atomic_int g_slept_stop; /* T_SLEEP handlers whose wq_sleep said stop */
static atomic_int g_push_after_stop = -1;
static atomic_int g_commit = -1; /* T_SPIN: what wq_commit_begin answered */
static atomic_int g_committed;   /* T_RECORD: commits that got the lock */

static void t_reset(void)
{
    pthread_mutex_lock(&g_mu);
    g_n_order = 0;
    pthread_mutex_unlock(&g_mu);
    for (int i = 0; i < T_MAX_JOBS; i++)
        atomic_store(&g_seen[i], 0);
    atomic_store(&g_ran, 0);
    atomic_store(&g_dropped, 0);
    atomic_store(&g_ctx_freed, 0);
    atomic_store(&g_gate, 0);
    atomic_store(&g_slept_stop, 0);
    atomic_store(&g_push_after_stop, -1);
    atomic_store(&g_commit, -1);
    atomic_store(&g_committed, 0);
}

static void t_tick(void)
{
    struct timespec ts = {0, 1000000L};
    nanosleep(&ts, NULL);
}

static void t_wait_for(atomic_int *v, int want)
{
    for (int i = 0; i < T_WAIT_TICKS && atomic_load(v) < want; i++)
        t_tick();
}

static void t_handler(struct wq *q, void *job, void *ctx)
{
    struct t_job *j = job;

    (void)ctx;
    switch (j->kind) {
    case T_GATE:
        for (int i = 0; i < T_WAIT_TICKS && !atomic_load(&g_gate); i++)
            if (!wq_sleep(q, 1))
                break;
        break;
    case T_SLEEP:
        if (!wq_sleep(q, WQ_MAX_SLEEP_MS)) {
            struct t_job extra = {T_MAX_JOBS - 1, T_RECORD, NULL};
            atomic_fetch_add(&g_slept_stop, 1);
            atomic_store(&g_push_after_stop, (int)wq_push(q, &extra));
        }
        break;
    case T_SPIN:
        /* Busy in work of its own (not wq_sleep), as a validation dialling a client is. */
        for (int i = 0; i < T_WAIT_TICKS && !atomic_load(&g_gate); i++)
            t_tick();
        atomic_store(&g_commit, wq_commit_begin(q) ? 1 : 0);
        if (atomic_load(&g_commit) == 1)
            wq_commit_end(q);
        break;
    case T_RECORD:
        if (wq_commit_begin(q)) {
            atomic_fetch_add(&g_committed, 1);
            wq_commit_end(q);
        }
        break;
    }
    pthread_mutex_lock(&g_mu);
    if (g_n_order < T_MAX_JOBS)
        g_order[g_n_order++] = j->id;
    pthread_mutex_unlock(&g_mu);
    atomic_fetch_add(&g_seen[j->id], 1);
    free(j->owned);
    j->owned = NULL;
    atomic_fetch_add(&g_ran, 1);
}

static void t_drop(void *job, void *ctx)
{
    struct t_job *j = job;

    (void)ctx;
    free(j->owned);
    j->owned = NULL;
    atomic_fetch_add(&g_dropped, 1);
}

static void t_ctx_free(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&g_ctx_freed, 1);
}

static struct wq_config t_config(unsigned workers, size_t capacity)
{
    struct wq_config c;

    memset(&c, 0, sizeof(c));
    c.job_size = sizeof(struct t_job);
    c.capacity = capacity;
    c.workers = workers;
    c.handler = t_handler;
    c.drop = t_drop;
    c.ctx_free = t_ctx_free;
    return c;
}

/* Pushes job id of kind; on failure frees its buffer (still ours) and returns the error. */
static enum mc_err t_push(struct wq *q, int id, enum t_kind kind)
{
    struct t_job j = {id, kind, malloc(32)};
    enum mc_err e;

    ck_assert_ptr_nonnull(j.owned);
    e = wq_push(q, &j);
    if (e != MC_OK)
        free(j.owned);
    return e;
}

/* Waits until the workers took every queued job. */
static void t_wait_taken(struct wq *q)
{
    for (int i = 0; i < T_WAIT_TICKS && wq_pending(q) > 0; i++)
        t_tick();
    ck_assert_uint_eq(wq_pending(q), 0);
}

START_TEST(test_once_each_in_order)
{
    struct wq *q = NULL;
    struct wq_config c = t_config(1, 64);
    const int n = 200; /* more than capacity: the ring wraps */

    t_reset();
    ck_assert_int_eq(wq_new(&c, &q), MC_OK);
    for (int i = 0; i < n; i++) {
        enum mc_err e = MC_ERR_LIMIT;
        for (int t = 0; t < T_WAIT_TICKS && e == MC_ERR_LIMIT; t++) {
            e = t_push(q, i, T_RECORD);
            if (e == MC_ERR_LIMIT)
                t_tick();
        }
        ck_assert_int_eq(e, MC_OK);
    }
    t_wait_for(&g_ran, n);
    ck_assert_int_eq(atomic_load(&g_ran), n);
    ck_assert_int_eq(atomic_load(&g_committed), n);
    pthread_mutex_lock(&g_mu);
    ck_assert_int_eq(g_n_order, n);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(g_order[i], i);
    pthread_mutex_unlock(&g_mu);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(atomic_load(&g_seen[i]), 1);
    /* Drained: the ring starts over at slot 0, so a shallow queue reuses its first pages. */
    pthread_mutex_lock(&q->mu);
    ck_assert_uint_eq(q->count, 0);
    ck_assert_uint_eq(q->head, 0);
    pthread_mutex_unlock(&q->mu);
    ck_assert(wq_free(q, -1));
    ck_assert_int_eq(atomic_load(&g_dropped), 0);
    ck_assert_int_eq(atomic_load(&g_ctx_freed), 1);
}
END_TEST

START_TEST(test_bounded_capacity)
{
    struct wq *q = NULL;
    struct wq_config c = t_config(1, 3);

    t_reset();
    ck_assert_int_eq(wq_new(&c, &q), MC_OK);
    /* The worker takes the gate job and waits; three more fill the ring. */
    ck_assert_int_eq(t_push(q, 0, T_GATE), MC_OK);
    t_wait_taken(q);
    for (int i = 1; i <= 3; i++)
        ck_assert_int_eq(t_push(q, i, T_RECORD), MC_OK);
    ck_assert_int_eq(t_push(q, 4, T_RECORD), MC_ERR_LIMIT);
    ck_assert_uint_eq(wq_pending(q), 3);
    ck_assert_int_eq(wq_push(q, NULL), MC_ERR_INVALID);
    atomic_store(&g_gate, 1);
    t_wait_for(&g_ran, 4);
    ck_assert_int_eq(atomic_load(&g_ran), 4);
    ck_assert_int_eq(atomic_load(&g_seen[4]), 0); /* refused means never run */
    ck_assert_uint_eq(wq_pending(q), 0);
    /* Room again once drained. */
    ck_assert_int_eq(t_push(q, 5, T_RECORD), MC_OK);
    t_wait_for(&g_ran, 5);
    ck_assert_int_eq(atomic_load(&g_seen[5]), 1);
    ck_assert(wq_free(q, -1));
    ck_assert_int_eq(atomic_load(&g_dropped), 0);
}
END_TEST

START_TEST(test_stop_drops_queued)
{
    struct wq *q = NULL;
    struct wq_config c = t_config(1, 8);

    t_reset();
    ck_assert_int_eq(wq_new(&c, &q), MC_OK);
    /* The worker sleeps a day in its handler; five jobs wait behind it. */
    ck_assert_int_eq(t_push(q, 0, T_SLEEP), MC_OK);
    t_wait_taken(q);
    for (int i = 1; i <= 5; i++)
        ck_assert_int_eq(t_push(q, i, T_RECORD), MC_OK);
    ck_assert_uint_eq(wq_pending(q), 5);
    ck_assert(wq_free(q, -1)); /* returns only because the stop woke the sleeper */
    ck_assert_int_eq(atomic_load(&g_dropped), 5);
    ck_assert_int_eq(atomic_load(&g_ran), 1); /* the sleeper; none of the dropped */
    for (int i = 1; i <= 5; i++)
        ck_assert_int_eq(atomic_load(&g_seen[i]), 0);
    ck_assert_int_eq(atomic_load(&g_slept_stop), 1);
    ck_assert_int_eq(atomic_load(&g_push_after_stop), MC_ERR_STATE);
    ck_assert_int_eq(atomic_load(&g_ctx_freed), 1);
}
END_TEST

START_TEST(test_stop_wakes_sleepers)
{
    struct wq *q = NULL;
    struct wq_config c = t_config(3, 8);

    t_reset();
    ck_assert_int_eq(wq_new(&c, &q), MC_OK);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(t_push(q, i, T_SLEEP), MC_OK);
    t_wait_taken(q);
    /* All three workers sleep in handlers, so a job pushed now stays queued. */
    ck_assert_int_eq(t_push(q, 3, T_RECORD), MC_OK);
    ck_assert_uint_eq(wq_pending(q), 1);
    /* With a bound: a sleeper that did not wake would be abandoned and this return false. */
    ck_assert(wq_free(q, 20000));
    ck_assert_int_eq(atomic_load(&g_slept_stop), 3);
    ck_assert_int_eq(atomic_load(&g_dropped), 1);
    ck_assert_int_eq(atomic_load(&g_seen[3]), 0);
    ck_assert_int_eq(atomic_load(&g_ctx_freed), 1);
}
END_TEST

/* A sleeping handler must not swallow the signal of a new job. The sleeper is made the
 * older waiter (glibc wakes older waiters first): one worker sleeps in a handler while the
 * other is still busy with a gate job and only then goes idle. The one job pushed next must
 * run while the sleeper still sleeps. */
START_TEST(test_sleeper_does_not_take_signal)
{
    struct wq *q = NULL;
    struct wq_config c = t_config(2, 8);

    t_reset();
    ck_assert_int_eq(wq_new(&c, &q), MC_OK);
    ck_assert_int_eq(t_push(q, 0, T_GATE), MC_OK);
    t_wait_taken(q);
    ck_assert_int_eq(t_push(q, 1, T_SLEEP), MC_OK);
    t_wait_taken(q);
    atomic_store(&g_gate, 1);
    t_wait_for(&g_ran, 1); /* the gate job ended; its worker goes idle */
    for (int i = 0; i < 5; i++)
        t_tick(); /* lets it reach its wait; not needed for the assertions to hold */
    ck_assert_int_eq(t_push(q, 2, T_RECORD), MC_OK);
    t_wait_for(&g_ran, 2);
    ck_assert_int_eq(atomic_load(&g_seen[2]), 1);
    ck_assert_int_eq(atomic_load(&g_slept_stop), 0); /* still asleep */
    ck_assert(wq_free(q, -1));
    ck_assert_int_eq(atomic_load(&g_slept_stop), 1);
    ck_assert_int_eq(atomic_load(&g_ran), 3);
}
END_TEST

#define T_PRODUCERS 4
#define T_PER_PRODUCER 500

struct t_producer {
    struct wq *q;
    int first;
    int pushed;
};

static void *t_produce(void *arg)
{
    struct t_producer *p = arg;

    for (int i = 0; i < T_PER_PRODUCER; i++) {
        struct t_job j = {p->first + i, T_RECORD, malloc(32)};
        enum mc_err e = MC_ERR_LIMIT;

        if (j.owned == NULL)
            break;
        for (int t = 0; t < T_WAIT_TICKS && e == MC_ERR_LIMIT; t++) {
            e = wq_push(p->q, &j);
            if (e == MC_ERR_LIMIT)
                t_tick();
        }
        if (e != MC_OK) {
            free(j.owned);
            break;
        }
        p->pushed++;
    }
    return NULL;
}

START_TEST(test_many_producers)
{
    struct wq *q = NULL;
    struct wq_config c = t_config(3, 16); /* small: producers meet a full ring often */
    struct t_producer prod[T_PRODUCERS];
    pthread_t th[T_PRODUCERS];
    const int n = T_PRODUCERS * T_PER_PRODUCER;

    t_reset();
    ck_assert_int_eq(wq_new(&c, &q), MC_OK);
    for (int i = 0; i < T_PRODUCERS; i++) {
        prod[i].q = q;
        prod[i].first = i * T_PER_PRODUCER;
        prod[i].pushed = 0;
        ck_assert_int_eq(pthread_create(&th[i], NULL, t_produce, &prod[i]), 0);
    }
    for (int i = 0; i < T_PRODUCERS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(prod[i].pushed, T_PER_PRODUCER);
    }
    t_wait_for(&g_ran, n);
    ck_assert(wq_free(q, -1));
    ck_assert_int_eq(atomic_load(&g_ran), n);
    ck_assert_int_eq(atomic_load(&g_dropped), 0);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(atomic_load(&g_seen[i]), 1);
}
END_TEST

/* A handler busy past wq_free's bound is left running; its commit is refused (the owner
 * may be gone), and the queue is freed, ctx_free called, when it ends. */
START_TEST(test_abandon_overrunning_handler)
{
    struct wq *q = NULL;
    struct wq_config c = t_config(1, 4);

    t_reset();
    ck_assert_int_eq(wq_new(&c, &q), MC_OK);
    ck_assert_int_eq(t_push(q, 0, T_SPIN), MC_OK);
    t_wait_taken(q);
    ck_assert_int_eq(t_push(q, 1, T_RECORD), MC_OK);
    ck_assert(!wq_free(q, 50));
    q = NULL; /* no longer ours */
    ck_assert_int_eq(atomic_load(&g_dropped), 1);
    ck_assert_int_eq(atomic_load(&g_ctx_freed), 0); /* the handler still reads it */
    atomic_store(&g_gate, 1);
    t_wait_for(&g_ctx_freed, 1);
    ck_assert_int_eq(atomic_load(&g_ctx_freed), 1);
    ck_assert_int_eq(atomic_load(&g_commit), 0);
    ck_assert_int_eq(atomic_load(&g_ran), 1);
}
END_TEST

START_TEST(test_bad_config)
{
    struct wq *q = (struct wq *)1;
    struct wq_config good = t_config(1, 1);
    struct wq_config c;

    t_reset();
    c = good;
    c.job_size = 0;
    ck_assert_int_eq(wq_new(&c, &q), MC_ERR_INVALID);
    ck_assert_ptr_null(q);
    c = good;
    c.job_size = WQ_MAX_JOB_SIZE + 1;
    ck_assert_int_eq(wq_new(&c, &q), MC_ERR_INVALID);
    c = good;
    c.capacity = 0;
    ck_assert_int_eq(wq_new(&c, &q), MC_ERR_INVALID);
    c = good;
    c.capacity = WQ_MAX_CAPACITY + 1;
    ck_assert_int_eq(wq_new(&c, &q), MC_ERR_INVALID);
    c = good;
    c.workers = 0;
    ck_assert_int_eq(wq_new(&c, &q), MC_ERR_INVALID);
    c = good;
    c.workers = WQ_MAX_WORKERS + 1;
    ck_assert_int_eq(wq_new(&c, &q), MC_ERR_INVALID);
    c = good;
    c.handler = NULL;
    ck_assert_int_eq(wq_new(&c, &q), MC_ERR_INVALID);
    ck_assert_int_eq(wq_new(NULL, &q), MC_ERR_INVALID);
    ck_assert_ptr_null(q);
    ck_assert_int_eq(atomic_load(&g_ctx_freed), 0); /* a failed wq_new leaves ctx alone */
    ck_assert(wq_free(NULL, -1));
    ck_assert_uint_eq(wq_pending(NULL), 0);
    ck_assert_int_eq(wq_push(NULL, &good), MC_ERR_INVALID);
    /* An idle queue's workers all end on stop: joined, nothing abandoned. */
    ck_assert_int_eq(wq_new(&good, &q), MC_OK);
    ck_assert(wq_free(q, 20000));
    ck_assert_int_eq(atomic_load(&g_ctx_freed), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wq");
    TCase *tc = tcase_create("wq");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_once_each_in_order);
    tcase_add_test(tc, test_bounded_capacity);
    tcase_add_test(tc, test_stop_drops_queued);
    tcase_add_test(tc, test_stop_wakes_sleepers);
    tcase_add_test(tc, test_sleeper_does_not_take_signal);
    tcase_add_test(tc, test_many_producers);
    tcase_add_test(tc, test_abandon_overrunning_handler);
    tcase_add_test(tc, test_bad_config);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
