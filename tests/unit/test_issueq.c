/* Unit tests for mockca/issueq.c, the issuance queue: jobs run once each and are freed;
 * a full queue refuses; stop drops queued jobs (freeing them) and cuts delays short; an
 * emptied ring starts over at slot 0 (so a shallow queue keeps touching the same few pages).
 * The .c files are included to read the ring's head (issueq's ring is common/wq.c's). */
#include "../../common/wq.c"
#include "../../mockca/issueq.c"

#include <check.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

static atomic_int g_ran, g_freed;

static void job_run(void *arg)
{
    (void)arg;
    atomic_fetch_add(&g_ran, 1);
}

static void job_free(void *arg)
{
    free(arg);
    atomic_fetch_add(&g_freed, 1);
}

static struct issueq_job job(int64_t delay_ms)
{
    struct issueq_job j = {job_run, job_free, malloc(16), delay_ms};
    ck_assert_ptr_nonnull(j.arg);
    return j;
}

static void wait_until(atomic_int *v, int want)
{
    for (int i = 0; i < 2000 && atomic_load(v) < want; i++) {
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void reset(void)
{
    atomic_store(&g_ran, 0);
    atomic_store(&g_freed, 0);
}

START_TEST(test_runs_and_frees)
{
    struct issueq *q = NULL;
    struct issueq_config c = {.workers = 2, .capacity = 8};

    reset();
    ck_assert_int_eq(issueq_new(&c, &q), MC_OK);
    for (int i = 0; i < 20; i++) {
        struct issueq_job j = job(0);
        enum mc_err e;
        /* bounded: the workers drain while we push */
        for (int t = 0; t < 2000; t++) {
            e = issueq_push(q, &j);
            if (e != MC_ERR_LIMIT)
                break;
            struct timespec ts = {0, 1000000L};
            nanosleep(&ts, NULL);
        }
        ck_assert_int_eq(e, MC_OK);
    }
    wait_until(&g_freed, 20);
    ck_assert_int_eq(atomic_load(&g_ran), 20);
    ck_assert_int_eq(atomic_load(&g_freed), 20);
    /* Drained: the ring starts over at slot 0. */
    pthread_mutex_lock(&q->wq->mu);
    ck_assert_uint_eq(q->wq->count, 0);
    ck_assert_uint_eq(q->wq->head, 0);
    pthread_mutex_unlock(&q->wq->mu);
    ck_assert_uint_eq(issueq_pending(q), 0);
    issueq_free(q);
}
END_TEST

START_TEST(test_full_and_stop_drops)
{
    struct issueq *q = NULL;
    struct issueq_config c = {.workers = 1, .capacity = 2};
    struct issueq_job j;
    struct timespec t0, t1;

    reset();
    ck_assert_int_eq(issueq_new(&c, &q), MC_OK);
    /* The worker takes the first and waits its 60 s; two more fill the ring. */
    j = job(60000);
    ck_assert_int_eq(issueq_push(q, &j), MC_OK);
    for (int t = 0; t < 2000 && issueq_pending(q) > 0; t++) {
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    j = job(0);
    ck_assert_int_eq(issueq_push(q, &j), MC_OK);
    j = job(0);
    ck_assert_int_eq(issueq_push(q, &j), MC_OK);
    j = job(0);
    ck_assert_int_eq(issueq_push(q, &j), MC_ERR_LIMIT); /* not taken: ours to free */
    free(j.arg);
    ck_assert_int_eq(issueq_push(q, NULL), MC_ERR_INVALID);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    issueq_free(q); /* cuts the 60 s wait short; nothing ran, all three freed */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_eq(atomic_load(&g_ran), 0);
    ck_assert_int_eq(atomic_load(&g_freed), 3);
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 30);
}
END_TEST

START_TEST(test_bad_config)
{
    struct issueq *q = NULL;
    struct issueq_config c = {.workers = ISSUEQ_MAX_WORKERS + 1};

    ck_assert_int_eq(issueq_new(&c, &q), MC_ERR_INVALID);
    ck_assert_ptr_null(q);
    ck_assert_int_eq(issueq_new(NULL, &q), MC_OK); /* defaults */
    issueq_free(q);
    issueq_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("issueq");
    TCase *tc = tcase_create("issueq");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_runs_and_frees);
    tcase_add_test(tc, test_full_and_stop_drops);
    tcase_add_test(tc, test_bad_config);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
