/* Unit tests for mockca/ratelimit.c: sliding windows, Retry-After values, LRU-bounded keys.
 *
 * The .c is included with a low key bound so the LRU test needs only a few keys. Its
 * exported names are renamed first, so this binary's copy never clashes with the one in
 * mockca_lib, whatever else of the library gets linked in. */
#define RATELIMIT_KEY_BOUND 16
/* Above what test_concurrent holds (1000 + 2000 events), below test_event_bound's load. */
#define RATELIMIT_EVENT_BOUND 4096
#define ratelimit_new rlt_new
#define ratelimit_free rlt_free
#define ratelimit_take rlt_take
#define ratelimit_record rlt_record
#define ratelimit_count rlt_count
#define ratelimit_reset rlt_reset
#include "../../mockca/ratelimit.c"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#define T0 1700000000000LL

/* Walks the table and the LRU list both ways: each must hold every key exactly once, and
 * nkeys must say how many. Returns nkeys. */
static size_t rl_check(struct ratelimit *rl)
{
    size_t in_table = 0, fwd = 0, back = 0;
    pthread_mutex_lock(&rl->mu);
    for (size_t b = 0; b <= rl->mask; b++)
        for (struct rl_key *k = rl->buckets[b]; k != NULL; k = k->chain) {
            ck_assert_uint_eq(k->hash & rl->mask, b);
            ck_assert_uint_le(k->len, k->cap);
            in_table++;
        }
    for (struct rl_key *k = rl->mru; k != NULL; k = k->older)
        fwd++;
    for (struct rl_key *k = rl->lru; k != NULL; k = k->newer)
        back++;
    size_t n = rl->nkeys;
    pthread_mutex_unlock(&rl->mu);
    ck_assert_uint_eq(in_table, n);
    ck_assert_uint_eq(fwd, n);
    ck_assert_uint_eq(back, n);
    return n;
}

static struct mc_clock *frozen_clock(void)
{
    struct mc_clock *c = clock_new();
    ck_assert_ptr_nonnull(c);
    clock_freeze(c);
    clock_set(c, T0);
    return c;
}

START_TEST(test_limit_and_retry_after)
{
    struct mc_clock *c = frozen_clock();
    struct ratelimit *rl = ratelimit_new(c);
    int64_t ra = -1;
    ck_assert_ptr_nonnull(rl);

    /* 3 per 10 s, events at T0, T0+1s, T0+2s. */
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(ratelimit_take(rl, "orders:acct-1", 3, 10000, &ra), MC_OK);
        ck_assert_int_eq(ra, 0);
        clock_advance(c, 1000);
    }
    clock_advance(c, -500); /* T0 + 2.5 s */
    ck_assert_int_eq(ratelimit_take(rl, "orders:acct-1", 3, 10000, &ra), MC_ERR_LIMIT);
    ck_assert_int_eq(ra, 7500); /* the T0 event leaves at T0 + 10 s */
    ck_assert_int_eq(ratelimit_take(rl, "orders:acct-1", 3, 10000, NULL), MC_ERR_LIMIT);
    /* A refused event is not counted. */
    ck_assert_uint_eq(ratelimit_count(rl, "orders:acct-1", 10000), 3);

    /* One millisecond before the oldest event leaves: still refused, retry 1. */
    clock_set(c, T0 + 9999);
    ck_assert_int_eq(ratelimit_take(rl, "orders:acct-1", 3, 10000, &ra), MC_ERR_LIMIT);
    ck_assert_int_eq(ra, 1);

    ratelimit_free(rl);
    clock_free(c);
}
END_TEST

START_TEST(test_sliding_window)
{
    struct mc_clock *c = frozen_clock();
    struct ratelimit *rl = ratelimit_new(c);
    int64_t ra = 0;
    const char *k = "accounts:127.0.0.1";
    ck_assert_ptr_nonnull(rl);

    for (int i = 0; i < 3; i++) { /* events at T0, T0+1s, T0+2s */
        ck_assert_int_eq(ratelimit_take(rl, k, 3, 10000, NULL), MC_OK);
        clock_advance(c, 1000);
    }
    /* At T0 + 10 s only the T0 event has left: one slot, not three (a fixed window that
     * reset at T0 + 10 s would free all of them). */
    clock_set(c, T0 + 10000);
    ck_assert_uint_eq(ratelimit_count(rl, k, 10000), 2);
    ck_assert_int_eq(ratelimit_take(rl, k, 3, 10000, &ra), MC_OK);
    ck_assert_int_eq(ratelimit_take(rl, k, 3, 10000, &ra), MC_ERR_LIMIT);
    ck_assert_int_eq(ra, 1000); /* the T0 + 1 s event leaves at T0 + 11 s */

    clock_set(c, T0 + 11000);
    ck_assert_int_eq(ratelimit_take(rl, k, 3, 10000, &ra), MC_OK);
    ck_assert_int_eq(ratelimit_take(rl, k, 3, 10000, &ra), MC_ERR_LIMIT);
    ck_assert_int_eq(ra, 1000);

    clock_set(c, T0 + 12000);
    ck_assert_int_eq(ratelimit_take(rl, k, 3, 10000, &ra), MC_OK);
    ck_assert_int_eq(ratelimit_take(rl, k, 3, 10000, &ra), MC_ERR_LIMIT);
    ck_assert_int_eq(ra, 8000); /* now the oldest is the one at T0 + 10 s */

    /* Long after, the whole window is free again. */
    clock_advance(c, 3600 * 1000);
    ck_assert_uint_eq(ratelimit_count(rl, k, 10000), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(ratelimit_take(rl, k, 3, 10000, NULL), MC_OK);
    ck_assert_int_eq(ratelimit_take(rl, k, 3, 10000, &ra), MC_ERR_LIMIT);
    ck_assert_int_eq(ra, 10000);

    ratelimit_free(rl);
    clock_free(c);
}
END_TEST

START_TEST(test_independent_keys_and_unlimited)
{
    struct mc_clock *c = frozen_clock();
    struct ratelimit *rl = ratelimit_new(c);
    int64_t ra = 0;
    ck_assert_ptr_nonnull(rl);

    ck_assert_int_eq(ratelimit_take(rl, "orders:acct-1", 1, 60000, NULL), MC_OK);
    ck_assert_int_eq(ratelimit_take(rl, "orders:acct-1", 1, 60000, &ra), MC_ERR_LIMIT);
    ck_assert_int_eq(ra, 60000);
    ck_assert_int_eq(ratelimit_take(rl, "orders:acct-2", 1, 60000, NULL), MC_OK);
    ck_assert_int_eq(ratelimit_take(rl, "orders:acct-1x", 1, 60000, NULL), MC_OK);
    ck_assert_uint_eq(ratelimit_count(rl, "orders:acct-1", 60000), 1);
    ck_assert_uint_eq(ratelimit_count(rl, "orders:acct-3", 60000), 0);

    /* limit 0: never refused, nothing counted, even for a key that is at its limit. */
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(ratelimit_take(rl, "orders:acct-1", 0, 60000, &ra), MC_OK);
    ck_assert_int_eq(ra, 0);
    ck_assert_uint_eq(ratelimit_count(rl, "orders:acct-1", 60000), 1);
    ck_assert_int_eq(ratelimit_take(rl, "unlimited", 0, 0, NULL), MC_OK);
    ck_assert_uint_eq(ratelimit_count(rl, "unlimited", 60000), 0);

    ratelimit_free(rl);
    clock_free(c);
}
END_TEST

START_TEST(test_invalid_args)
{
    struct mc_clock *c = frozen_clock();
    struct ratelimit *rl = ratelimit_new(c);
    char long_key[RATELIMIT_KEY_MAX + 2];
    int64_t ra = 5;
    ck_assert_ptr_nonnull(rl);
    memset(long_key, 'a', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';

    ck_assert_int_eq(ratelimit_take(rl, "k", RATELIMIT_MAX_LIMIT + 1, 1000, &ra), MC_ERR_INVALID);
    ck_assert_int_eq(ratelimit_take(rl, "k", 1, 0, &ra), MC_ERR_INVALID);
    ck_assert_int_eq(ratelimit_take(rl, "k", 1, -1, &ra), MC_ERR_INVALID);
    ck_assert_int_eq(ratelimit_take(rl, NULL, 1, 1000, &ra), MC_ERR_INVALID);
    ck_assert_int_eq(ratelimit_take(NULL, "k", 1, 1000, &ra), MC_ERR_INVALID);
    ck_assert_int_eq(ratelimit_take(rl, "", 1, 1000, &ra), MC_ERR_INVALID);
    ck_assert_int_eq(ratelimit_take(rl, long_key, 1, 1000, &ra), MC_ERR_INVALID);
    ck_assert_int_eq(ra, 0);
    /* The longest accepted key works. */
    long_key[RATELIMIT_KEY_MAX] = '\0';
    ck_assert_int_eq(ratelimit_take(rl, long_key, 1, 1000, NULL), MC_OK);
    ck_assert_uint_eq(ratelimit_count(rl, long_key, 1000), 1);
    /* The largest limit is accepted. */
    ck_assert_int_eq(ratelimit_take(rl, "k", RATELIMIT_MAX_LIMIT, 1000, NULL), MC_OK);

    /* None of the refused calls left an event or a key behind. */
    ck_assert_uint_eq(ratelimit_count(rl, "k", 1000), 1);
    ck_assert_uint_eq(rl->nkeys, 2);

    ratelimit_record(rl, NULL, 1000);
    ratelimit_record(rl, "k", 0);
    ratelimit_record(NULL, "k", 1000);
    ratelimit_record(rl, "", 1000);
    ck_assert_uint_eq(ratelimit_count(rl, "k", 1000), 1);
    ck_assert_uint_eq(ratelimit_count(rl, "k", 0), 0);
    ck_assert_uint_eq(ratelimit_count(rl, NULL, 1000), 0);
    ck_assert_uint_eq(ratelimit_count(NULL, "k", 1000), 0);
    ck_assert_uint_eq(rl->nkeys, 2);

    ratelimit_reset(NULL);
    ratelimit_free(NULL);
    ratelimit_free(rl);
    clock_free(c);
}
END_TEST

START_TEST(test_record_and_count)
{
    struct mc_clock *c = frozen_clock();
    struct ratelimit *rl = ratelimit_new(c);
    const char *k = "failed-authz:example.com";
    int64_t ra = 0;
    ck_assert_ptr_nonnull(rl);

    /* Five failures, one a minute; count them over an hour and over shorter spans. */
    for (int i = 0; i < 5; i++) {
        ratelimit_record(rl, k, 3600000);
        clock_advance(c, 60000);
    }
    /* now T0 + 5 min; events at 0,1,2,3,4 min */
    ck_assert_uint_eq(ratelimit_count(rl, k, 3600000), 5);
    ck_assert_uint_eq(ratelimit_count(rl, k, 150000), 2); /* events at 3 and 4 min */
    ck_assert_uint_eq(ratelimit_count(rl, k, 60000), 0);  /* 4 min: exactly 60 s old is out */
    ck_assert_uint_eq(ratelimit_count(rl, k, 60001), 1);
    ck_assert_uint_eq(ratelimit_count(rl, k, 1), 0);
    /* count did not drop anything: the long window still sees all five. */
    ck_assert_uint_eq(ratelimit_count(rl, k, 3600000), 5);

    /* record counts past any limit; a take with limit 5 is then refused until the oldest
     * leaves the hour, and a take with limit 3 until the third-newest does. */
    ratelimit_record(rl, k, 3600000); /* at 5 min */
    ck_assert_uint_eq(ratelimit_count(rl, k, 3600000), 6);
    ck_assert_int_eq(ratelimit_take(rl, k, 5, 3600000, &ra), MC_ERR_LIMIT);
    ck_assert_int_eq(ra, 3600000 - 300000 + 60000); /* the 1 min event leaves at 61 min */
    ck_assert_int_eq(ratelimit_take(rl, k, 3, 3600000, &ra), MC_ERR_LIMIT);
    ck_assert_int_eq(ra, 3600000 - 300000 + 180000); /* the 3 min event, at 63 min */

    clock_set(c, T0 + 3600000); /* the 0 min event has left */
    ck_assert_uint_eq(ratelimit_count(rl, k, 3600000), 5);
    clock_set(c, T0 + 3600000 + 5 * 60000);
    ck_assert_uint_eq(ratelimit_count(rl, k, 3600000), 0);

    /* record is bounded too: past RATELIMIT_MAX_LIMIT events the oldest are dropped. */
    for (int i = 0; i < RATELIMIT_MAX_LIMIT + 10; i++)
        ratelimit_record(rl, "flood", 3600000);
    ck_assert_uint_eq(ratelimit_count(rl, "flood", 3600000), RATELIMIT_MAX_LIMIT);

    ratelimit_free(rl);
    clock_free(c);
}
END_TEST

START_TEST(test_lru_bound)
{
    struct mc_clock *c = frozen_clock();
    struct ratelimit *rl = ratelimit_new(c);
    char key[32];
    ck_assert_ptr_nonnull(rl);

    for (int i = 0; i < RATELIMIT_KEY_BOUND; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        ck_assert_int_eq(ratelimit_take(rl, key, 1, 60000, NULL), MC_OK);
    }
    ck_assert_uint_eq(rl_check(rl), RATELIMIT_KEY_BOUND);
    /* Touch k0 (a count is a use), so k1 is now the least recently used. */
    ck_assert_uint_eq(ratelimit_count(rl, "k0", 60000), 1);
    ck_assert_int_eq(ratelimit_take(rl, "new", 1, 60000, NULL), MC_OK);
    ck_assert_uint_eq(rl->nkeys, RATELIMIT_KEY_BOUND);
    /* k1 is forgotten, k0 kept. */
    ck_assert_uint_eq(ratelimit_count(rl, "k1", 60000), 0);
    ck_assert_int_eq(ratelimit_take(rl, "k0", 1, 60000, NULL), MC_ERR_LIMIT);
    ck_assert_uint_eq(ratelimit_count(rl, "k2", 60000), 1);

    /* Many keys: the table never holds more than the bound, and the newest ones stay. */
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof(key), "many-%d", i);
        ck_assert_int_eq(ratelimit_take(rl, key, 1, 60000, NULL), MC_OK);
        ck_assert_uint_le(rl->nkeys, RATELIMIT_KEY_BOUND);
    }
    ck_assert_uint_eq(rl_check(rl), RATELIMIT_KEY_BOUND);
    for (int i = 2000 - RATELIMIT_KEY_BOUND; i < 2000; i++) {
        snprintf(key, sizeof(key), "many-%d", i);
        ck_assert_uint_eq(ratelimit_count(rl, key, 60000), 1);
    }
    ck_assert_uint_eq(ratelimit_count(rl, "many-0", 60000), 0);
    ck_assert_uint_eq(ratelimit_count(rl, "k0", 60000), 0);

    ratelimit_free(rl);
    clock_free(c);
}
END_TEST

START_TEST(test_reset)
{
    struct mc_clock *c = frozen_clock();
    struct ratelimit *rl = ratelimit_new(c);
    ck_assert_ptr_nonnull(rl);

    ck_assert_int_eq(ratelimit_take(rl, "a", 1, 60000, NULL), MC_OK);
    ratelimit_record(rl, "b", 60000);
    ck_assert_int_eq(ratelimit_take(rl, "a", 1, 60000, NULL), MC_ERR_LIMIT);
    ratelimit_reset(rl);
    ck_assert_uint_eq(rl_check(rl), 0);
    ck_assert_uint_eq(ratelimit_count(rl, "a", 60000), 0);
    ck_assert_uint_eq(ratelimit_count(rl, "b", 60000), 0);
    ck_assert_int_eq(ratelimit_take(rl, "a", 1, 60000, NULL), MC_OK);
    ck_assert_uint_eq(ratelimit_count(rl, "a", 60000), 1);

    ratelimit_free(rl);
    clock_free(c);
}
END_TEST

START_TEST(test_clock_backwards)
{
    struct mc_clock *c = frozen_clock();
    struct ratelimit *rl = ratelimit_new(c);
    int64_t ra = 0;
    ck_assert_ptr_nonnull(rl);

    ck_assert_int_eq(ratelimit_take(rl, "a", 2, 10000, NULL), MC_OK); /* T0 */
    clock_advance(c, -5000);
    /* Stamped T0 (not T0 - 5 s) so the ring stays in order; the limit errs strict. */
    ck_assert_int_eq(ratelimit_take(rl, "a", 2, 10000, NULL), MC_OK);
    ck_assert_int_eq(ratelimit_take(rl, "a", 2, 10000, &ra), MC_ERR_LIMIT);
    ck_assert_int_eq(ra, 15000);
    clock_set(c, T0 + 10000);
    ck_assert_uint_eq(ratelimit_count(rl, "a", 10000), 0);

    ratelimit_free(rl);
    clock_free(c);
}
END_TEST

/* Concurrency: 4 threads race for one shared key (limit 1000, 2000 attempts in all, at one
 * frozen instant: exactly 1000 may win) while each also churns keys of its own past the LRU
 * bound. */
enum { RT_THREADS = 4, RT_TRIES = 500, RT_LIMIT = 1000 };

struct rt_shared {
    struct ratelimit *rl;
    atomic_int ok, limited, other;
};

struct rt_arg {
    struct rt_shared *sh;
    int id;
};

static void *rt_worker(void *p)
{
    struct rt_arg *a = p;
    char key[32];
    for (int i = 0; i < RT_TRIES; i++) {
        enum mc_err e = ratelimit_take(a->sh->rl, "shared", RT_LIMIT, 3600000, NULL);
        if (e == MC_OK)
            atomic_fetch_add(&a->sh->ok, 1);
        else if (e == MC_ERR_LIMIT)
            atomic_fetch_add(&a->sh->limited, 1);
        else
            atomic_fetch_add(&a->sh->other, 1);
        snprintf(key, sizeof(key), "t%d-%d", a->id, i % 40);
        ratelimit_record(a->sh->rl, key, 3600000);
        (void)ratelimit_count(a->sh->rl, key, 3600000);
    }
    return NULL;
}

START_TEST(test_concurrent)
{
    struct mc_clock *c = frozen_clock();
    struct rt_shared sh = {.rl = ratelimit_new(c)};
    pthread_t th[RT_THREADS];
    struct rt_arg args[RT_THREADS];
    ck_assert_ptr_nonnull(sh.rl);

    for (int t = 0; t < RT_THREADS; t++) {
        args[t].sh = &sh;
        args[t].id = t;
        ck_assert_int_eq(pthread_create(&th[t], NULL, rt_worker, &args[t]), 0);
    }
    for (int t = 0; t < RT_THREADS; t++)
        pthread_join(th[t], NULL);

    ck_assert_int_eq(atomic_load(&sh.other), 0);
    ck_assert_int_eq(atomic_load(&sh.ok), RT_LIMIT);
    ck_assert_int_eq(atomic_load(&sh.limited), RT_THREADS * RT_TRIES - RT_LIMIT);
    ck_assert_uint_le(rl_check(sh.rl), RATELIMIT_KEY_BOUND);

    ratelimit_free(sh.rl);
    clock_free(c);
}
END_TEST

/* However the events spread over keys, no more than the event bound are held: the least
 * recently used keys go first, and the key in use is never the one dropped. */
START_TEST(test_event_bound)
{
    struct mc_clock *c = clock_new();
    clock_freeze(c);
    struct ratelimit *rl = ratelimit_new(c);
    char key[32];

    /* 8 keys of 600 events: 4800 > 4096, so the oldest keys are dropped as it goes. */
    for (int k = 0; k < 8; k++) {
        snprintf(key, sizeof(key), "k%d", k);
        for (int i = 0; i < 600; i++)
            ck_assert_int_eq(ratelimit_take(rl, key, 1000, 60000, NULL), MC_OK);
        ck_assert_uint_le(rl->nevents, RATELIMIT_EVENT_BOUND);
    }
    ck_assert_uint_eq(ratelimit_count(rl, "k0", 60000), 0); /* dropped: least recent */
    ck_assert_uint_eq(ratelimit_count(rl, "k7", 60000), 600);
    /* One key alone may hold more than the bound: it is the one in use. */
    for (int i = 0; i < 5000; i++)
        ratelimit_record(rl, "big", 60000);
    ck_assert_uint_eq(ratelimit_count(rl, "big", 60000), 5000);
    ck_assert_uint_eq(rl->nkeys, 1);
    ck_assert_uint_eq(rl->nevents, 5000);
    ratelimit_free(rl);
    clock_free(c);
}
END_TEST

static Suite *ratelimit_suite(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_limit_and_retry_after);
    tcase_add_test(tc, test_event_bound);
    tcase_add_test(tc, test_sliding_window);
    tcase_add_test(tc, test_independent_keys_and_unlimited);
    tcase_add_test(tc, test_invalid_args);
    tcase_add_test(tc, test_record_and_count);
    tcase_add_test(tc, test_lru_bound);
    tcase_add_test(tc, test_reset);
    tcase_add_test(tc, test_clock_backwards);
    tcase_add_test(tc, test_concurrent);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ratelimit_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
