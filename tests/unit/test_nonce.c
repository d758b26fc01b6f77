/* Unit tests for mockca/acme/nonce.c: RFC 8555 section 6.5 nonces are used once, expire,
 * are evicted oldest first at capacity, and malformed ones never match. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64url.h"
#include "common/clock.h"
#include "mockca/acme/nonce.h"

#define T0 1700000000000LL

static struct mc_clock *frozen_clock(void)
{
    struct mc_clock *c = clock_new();
    ck_assert_ptr_nonnull(c);
    clock_freeze(c);
    clock_set(c, T0);
    return c;
}

static void issue(struct nonce_store *ns, char out[NONCE_LEN + 1])
{
    ck_assert_int_eq(nonce_issue(ns, out), MC_OK);
    ck_assert_uint_eq(strlen(out), NONCE_LEN);
    ck_assert(b64url_is_alphabet(out, NONCE_LEN));
}

START_TEST(test_issue_redeem_once)
{
    enum { N = 1000 };
    struct mc_clock *c = frozen_clock();
    struct nonce_store *ns = nonce_store_new(0, 0, c);
    char(*n)[NONCE_LEN + 1] = calloc(N, sizeof(*n));
    ck_assert_ptr_nonnull(ns);
    ck_assert_ptr_nonnull(n);

    for (int i = 0; i < N; i++)
        issue(ns, n[i]);
    ck_assert_uint_eq(nonce_store_count(ns), N);

    /* Every nonce decodes to 16 bytes (128 random bits). */
    uint8_t *raw = NULL;
    size_t rawlen = 0;
    ck_assert_int_eq(b64url_decode(n[0], NONCE_LEN, &raw, &rawlen), MC_OK);
    ck_assert_uint_eq(rawlen, 16);
    free(raw);

    /* Redeem in an order other than issue order: odd ones, then even ones. */
    for (int i = 1; i < N; i += 2)
        ck_assert_int_eq(nonce_redeem(ns, n[i]), MC_OK);
    ck_assert_uint_eq(nonce_store_count(ns), N / 2);
    for (int i = 0; i < N; i += 2)
        ck_assert_int_eq(nonce_redeem(ns, n[i]), MC_OK);
    ck_assert_uint_eq(nonce_store_count(ns), 0);

    for (int i = 0; i < N; i++)
        ck_assert_int_eq(nonce_redeem(ns, n[i]), MC_ERR_NOT_FOUND);

    /* The store still works after emptying: the free list is reused. */
    char again[NONCE_LEN + 1];
    issue(ns, again);
    ck_assert_uint_eq(nonce_store_count(ns), 1);
    ck_assert_int_eq(nonce_redeem(ns, again), MC_OK);

    free(n);
    nonce_store_free(ns);
    clock_free(c);
}
END_TEST

START_TEST(test_malformed_and_unknown)
{
    struct mc_clock *c = frozen_clock();
    struct nonce_store *ns = nonce_store_new(8, 0, c);
    char good[NONCE_LEN + 1], buf[64];
    ck_assert_ptr_nonnull(ns);
    issue(ns, good);

    ck_assert_int_eq(nonce_redeem(ns, NULL), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(nonce_redeem(ns, ""), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(nonce_redeem(NULL, good), MC_ERR_NOT_FOUND);
    /* 21 chars: a prefix of the good nonce. */
    memcpy(buf, good, NONCE_LEN - 1);
    buf[NONCE_LEN - 1] = '\0';
    ck_assert_int_eq(nonce_redeem(ns, buf), MC_ERR_NOT_FOUND);
    /* 23 chars: the good nonce plus one. Its first 22 match, so this is a length check. */
    snprintf(buf, sizeof(buf), "%sA", good);
    ck_assert_uint_eq(strlen(buf), NONCE_LEN + 1);
    ck_assert_int_eq(nonce_redeem(ns, buf), MC_ERR_NOT_FOUND);
    /* The right length, but base64 ('+', '/'), padding or spaces instead of base64url. */
    const char *bad[] = {"+AAAAAAAAAAAAAAAAAAAAA", "/AAAAAAAAAAAAAAAAAAAAA",
                         "AAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAA AAAAAAAAAAA",
                         "AAAAAAAAAAAAAAAAAAAAA\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_uint_eq(strlen(bad[i]), NONCE_LEN);
        ck_assert_int_eq(nonce_redeem(ns, bad[i]), MC_ERR_NOT_FOUND);
    }
    /* The good nonce with one character swapped for a foreign one. */
    memcpy(buf, good, NONCE_LEN + 1);
    buf[5] = '.';
    ck_assert_int_eq(nonce_redeem(ns, buf), MC_ERR_NOT_FOUND);
    /* Well-formed but never issued. */
    memcpy(buf, good, NONCE_LEN + 1);
    buf[0] = buf[0] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(nonce_redeem(ns, buf), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(nonce_redeem(ns, "AAAAAAAAAAAAAAAAAAAAAA"), MC_ERR_NOT_FOUND);

    /* None of that touched the table: the good nonce is still there, once. */
    ck_assert_uint_eq(nonce_store_count(ns), 1);
    ck_assert_int_eq(nonce_redeem(ns, good), MC_OK);
    ck_assert_int_eq(nonce_redeem(ns, good), MC_ERR_NOT_FOUND);

    ck_assert_int_eq(nonce_issue(NULL, buf), MC_ERR_INVALID);
    ck_assert_uint_eq(nonce_store_count(NULL), 0);
    nonce_store_free(NULL);
    nonce_store_free(ns);
    clock_free(c);
}
END_TEST

START_TEST(test_capacity_evicts_oldest)
{
    struct mc_clock *c = frozen_clock();
    struct nonce_store *ns = nonce_store_new(4, 0, c);
    char n[6][NONCE_LEN + 1];
    ck_assert_ptr_nonnull(ns);

    for (int i = 0; i < 5; i++)
        issue(ns, n[i]);
    ck_assert_uint_eq(nonce_store_count(ns), 4);
    ck_assert_int_eq(nonce_redeem(ns, n[0]), MC_ERR_NOT_FOUND); /* the 5th evicted the 1st */
    for (int i = 1; i < 5; i++)
        ck_assert_int_eq(nonce_redeem(ns, n[i]), MC_OK);
    ck_assert_uint_eq(nonce_store_count(ns), 0);

    /* Below capacity nothing is evicted: a redeemed nonce frees its slot. */
    for (int i = 0; i < 4; i++)
        issue(ns, n[i]);
    ck_assert_int_eq(nonce_redeem(ns, n[1]), MC_OK);
    issue(ns, n[4]);
    ck_assert_uint_eq(nonce_store_count(ns), 4);
    /* Now full again: the next one evicts the oldest unused one, n[0] (not n[2]). */
    issue(ns, n[5]);
    ck_assert_int_eq(nonce_redeem(ns, n[0]), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(nonce_redeem(ns, n[2]), MC_OK);
    ck_assert_int_eq(nonce_redeem(ns, n[3]), MC_OK);
    ck_assert_int_eq(nonce_redeem(ns, n[4]), MC_OK);
    ck_assert_int_eq(nonce_redeem(ns, n[5]), MC_OK);

    /* Capacity 1: each issue replaces the last. */
    struct nonce_store *one = nonce_store_new(1, 0, c);
    ck_assert_ptr_nonnull(one);
    issue(one, n[0]);
    issue(one, n[1]);
    ck_assert_uint_eq(nonce_store_count(one), 1);
    ck_assert_int_eq(nonce_redeem(one, n[0]), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(nonce_redeem(one, n[1]), MC_OK);
    nonce_store_free(one);

    nonce_store_free(ns);
    clock_free(c);
}
END_TEST

START_TEST(test_ttl)
{
    struct mc_clock *c = frozen_clock();
    struct nonce_store *ns = nonce_store_new(16, 1000, c);
    char a[NONCE_LEN + 1], b[NONCE_LEN + 1], d[NONCE_LEN + 1];
    ck_assert_ptr_nonnull(ns);

    issue(ns, a); /* at T0 */
    clock_advance(c, 500);
    issue(ns, b); /* at T0 + 500 */
    issue(ns, d);
    clock_advance(c, 499); /* T0 + 999: a is 999 ms old, still valid */
    ck_assert_uint_eq(nonce_store_count(ns), 3);
    ck_assert_int_eq(nonce_redeem(ns, d), MC_OK);

    clock_advance(c, 1); /* T0 + 1000: a has lived its TTL */
    ck_assert_uint_eq(nonce_store_count(ns), 1);
    ck_assert_int_eq(nonce_redeem(ns, a), MC_ERR_NOT_FOUND);

    clock_advance(c, 499); /* T0 + 1499: b is 999 ms old */
    ck_assert_int_eq(nonce_redeem(ns, b), MC_OK);

    /* Far past the TTL, everything held goes at once. */
    for (int i = 0; i < 10; i++)
        issue(ns, a);
    ck_assert_uint_eq(nonce_store_count(ns), 10);
    clock_advance(c, 3600 * 1000);
    ck_assert_uint_eq(nonce_store_count(ns), 0);
    ck_assert_int_eq(nonce_redeem(ns, a), MC_ERR_NOT_FOUND);

    /* The clock stepped backwards between two issues: the newer-stamped one sits at the
     * head, the older-stamped one behind it still expires by its own stamp. */
    issue(ns, a); /* at T */
    clock_advance(c, -800);
    issue(ns, b);           /* at T - 800 */
    clock_advance(c, 1100); /* T + 300: b is 1100 ms old, a 300 */
    ck_assert_int_eq(nonce_redeem(ns, b), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(nonce_redeem(ns, a), MC_OK);

    nonce_store_free(ns);
    clock_free(c);
}
END_TEST

START_TEST(test_default_ttl_and_real_clock)
{
    /* NULL clock: real time; default TTL is an hour, so a fresh nonce is valid. */
    struct nonce_store *ns = nonce_store_new(0, -5, NULL);
    char a[NONCE_LEN + 1];
    ck_assert_ptr_nonnull(ns);
    issue(ns, a);
    ck_assert_uint_eq(nonce_store_count(ns), 1);
    ck_assert_int_eq(nonce_redeem(ns, a), MC_OK);
    nonce_store_free(ns);

    /* Default TTL through a frozen clock: valid just under an hour, gone at the hour. */
    struct mc_clock *c = frozen_clock();
    ns = nonce_store_new(0, 0, c);
    ck_assert_ptr_nonnull(ns);
    issue(ns, a);
    clock_advance(c, NONCE_DEFAULT_TTL_MS - 1);
    ck_assert_uint_eq(nonce_store_count(ns), 1);
    clock_advance(c, 1);
    ck_assert_int_eq(nonce_redeem(ns, a), MC_ERR_NOT_FOUND);
    nonce_store_free(ns);
    clock_free(c);
}
END_TEST

static int cmp_nonce(const void *a, const void *b)
{
    return memcmp(a, b, NONCE_LEN + 1);
}

START_TEST(test_unique_10000)
{
    enum { N = 10000 };
    struct nonce_store *ns = nonce_store_new(N, 0, NULL);
    char(*n)[NONCE_LEN + 1] = calloc(N, sizeof(*n));
    ck_assert_ptr_nonnull(ns);
    ck_assert_ptr_nonnull(n);
    for (int i = 0; i < N; i++)
        issue(ns, n[i]);
    ck_assert_uint_eq(nonce_store_count(ns), N); /* exactly at capacity, nothing evicted */
    qsort(n, N, sizeof(*n), cmp_nonce);
    for (int i = 1; i < N; i++)
        ck_assert_msg(memcmp(n[i - 1], n[i], NONCE_LEN) != 0, "duplicate nonce %s", n[i]);
    free(n);
    nonce_store_free(ns);
}
END_TEST

/* Concurrency: 4 threads issue into a shared array, then all of them race to redeem every
 * nonce (each from a different starting point) while also issuing and redeeming nonces of
 * their own. Every shared nonce must be redeemed by exactly one thread. */
enum { CT_THREADS = 4, CT_PER_THREAD = 2000, CT_TOTAL = CT_THREADS * CT_PER_THREAD };

struct ct_shared {
    struct nonce_store *ns;
    pthread_barrier_t barrier;
    char (*nonces)[NONCE_LEN + 1];
    atomic_int wins[CT_TOTAL];
    atomic_int errors;
};

struct ct_arg {
    struct ct_shared *sh;
    int id;
};

static void *ct_worker(void *p)
{
    struct ct_arg *a = p;
    struct ct_shared *sh = a->sh;
    char own[NONCE_LEN + 1];

    for (int i = 0; i < CT_PER_THREAD; i++) {
        if (nonce_issue(sh->ns, sh->nonces[a->id * CT_PER_THREAD + i]) != MC_OK)
            atomic_fetch_add(&sh->errors, 1);
    }
    pthread_barrier_wait(&sh->barrier);
    for (int k = 0; k < CT_TOTAL; k++) {
        int i = (k + a->id * (CT_TOTAL / CT_THREADS)) % CT_TOTAL;
        if (nonce_redeem(sh->ns, sh->nonces[i]) == MC_OK)
            atomic_fetch_add(&sh->wins[i], 1);
        if (k % 8 == 0) {
            /* Inserts and removals interleaved with the race above. */
            if (nonce_issue(sh->ns, own) != MC_OK || nonce_redeem(sh->ns, own) != MC_OK ||
                nonce_redeem(sh->ns, own) != MC_ERR_NOT_FOUND)
                atomic_fetch_add(&sh->errors, 1);
        }
    }
    return NULL;
}

START_TEST(test_concurrent)
{
    struct ct_shared *sh = calloc(1, sizeof(*sh));
    pthread_t th[CT_THREADS];
    struct ct_arg args[CT_THREADS];
    ck_assert_ptr_nonnull(sh);
    sh->ns = nonce_store_new(CT_TOTAL + 64, 0, NULL);
    sh->nonces = calloc(CT_TOTAL, sizeof(*sh->nonces));
    ck_assert_ptr_nonnull(sh->ns);
    ck_assert_ptr_nonnull(sh->nonces);
    ck_assert_int_eq(pthread_barrier_init(&sh->barrier, NULL, CT_THREADS), 0);

    for (int t = 0; t < CT_THREADS; t++) {
        args[t].sh = sh;
        args[t].id = t;
        ck_assert_int_eq(pthread_create(&th[t], NULL, ct_worker, &args[t]), 0);
    }
    for (int t = 0; t < CT_THREADS; t++)
        pthread_join(th[t], NULL);

    ck_assert_int_eq(atomic_load(&sh->errors), 0);
    for (int i = 0; i < CT_TOTAL; i++)
        ck_assert_msg(atomic_load(&sh->wins[i]) == 1, "nonce %d redeemed %d times", i,
                      atomic_load(&sh->wins[i]));
    ck_assert_uint_eq(nonce_store_count(sh->ns), 0);

    pthread_barrier_destroy(&sh->barrier);
    free(sh->nonces);
    nonce_store_free(sh->ns);
    free(sh);
}
END_TEST

/* The store keeps a nonce as its 16 raw bytes; a second spelling of the same bytes (the
 * last character's 4 unused bits set) is not that nonce and must not redeem it. */
START_TEST(test_noncanonical_spelling)
{
    struct nonce_store *ns = nonce_store_new(16, 0, NULL);
    char n[NONCE_LEN + 1], alt[NONCE_LEN + 1];
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *p;

    ck_assert_ptr_nonnull(ns);
    ck_assert_int_eq(nonce_issue(ns, n), MC_OK);
    memcpy(alt, n, sizeof(alt));
    p = strchr(alphabet, n[NONCE_LEN - 1]);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq((p - alphabet) & 15, 0); /* canonical: unused bits zero */
    alt[NONCE_LEN - 1] = alphabet[(p - alphabet) | 1];
    ck_assert_int_eq(nonce_redeem(ns, alt), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(nonce_redeem(ns, n), MC_OK);
    ck_assert_int_eq(nonce_redeem(ns, n), MC_ERR_NOT_FOUND);
    nonce_store_free(ns);
}
END_TEST

static Suite *nonce_suite(void)
{
    Suite *s = suite_create("nonce");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_issue_redeem_once);
    tcase_add_test(tc, test_malformed_and_unknown);
    tcase_add_test(tc, test_capacity_evicts_oldest);
    tcase_add_test(tc, test_ttl);
    tcase_add_test(tc, test_default_ttl_and_real_clock);
    tcase_add_test(tc, test_unique_10000);
    tcase_add_test(tc, test_concurrent);
    tcase_add_test(tc, test_noncanonical_spelling);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(nonce_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
