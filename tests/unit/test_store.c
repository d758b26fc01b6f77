/* Unit tests for mockca/store.c: accounts, orders, authorizations and challenges through
 * their state machines, reuse, lazy expiry, retention, paging, the object bound and
 * concurrent use, all on a frozen clock.
 *
 * The .c is included so the bound test can lower st->max_objects; its exported names are
 * renamed first, so this binary's copy never clashes with the one in mockca_lib. */
#define acct_status_name sts_acct_status_name
#define order_status_name sts_order_status_name
#define authz_status_name sts_authz_status_name
#define chall_status_name sts_chall_status_name
#define chall_type_name sts_chall_type_name
#define store_new sts_store_new
#define store_free sts_store_free
#define account_snap_clear sts_account_snap_clear
#define authz_snap_clear sts_authz_snap_clear
#define order_snap_clear sts_order_snap_clear
#define store_account_new sts_store_account_new
#define store_account_get sts_store_account_get
#define store_account_find_by_key sts_store_account_find_by_key
#define store_account_set_contacts sts_store_account_set_contacts
#define store_account_deactivate sts_store_account_deactivate
#define store_account_rollover sts_store_account_rollover
#define store_account_orders sts_store_account_orders
#define store_order_new sts_store_order_new
#define store_order_get sts_store_order_get
#define store_order_begin_finalize sts_store_order_begin_finalize
#define store_order_complete sts_store_order_complete
#define store_order_fail sts_store_order_fail
#define store_authz_new sts_store_authz_new
#define store_authz_get sts_store_authz_get
#define store_authz_deactivate sts_store_authz_deactivate
#define store_challenge_get sts_store_challenge_get
#define store_challenge_begin sts_store_challenge_begin
#define store_challenge_succeed sts_store_challenge_succeed
#define store_challenge_fail sts_store_challenge_fail
#define store_sweep sts_store_sweep
#define store_counts sts_store_counts
#include "../../mockca/store.c"

#include <check.h>
#include <pthread.h>

#include "common/keys.h"

#define T0 1700000000000LL
#define HOUR (3600LL * 1000)

static const enum chall_type all_types[] = {CHALL_HTTP01, CHALL_DNS01, CHALL_TLSALPN01,
                                            CHALL_DNSACCOUNT01};

static struct mc_clock *g_clock;
static struct store *g_st;

static void setup(void)
{
    struct store_config cfg = {0};
    g_clock = clock_new();
    ck_assert_ptr_nonnull(g_clock);
    clock_freeze(g_clock);
    clock_set(g_clock, T0);
    cfg.clock = g_clock;
    cfg.order_lifetime_ms = 24 * HOUR;
    cfg.authz_lifetime_ms = HOUR;
    cfg.valid_authz_lifetime_ms = 30 * 24 * HOUR;
    cfg.retention_ms = 2 * HOUR;
    ck_assert_int_eq(store_new(&cfg, &g_st), MC_OK);
}

static void teardown(void)
{
    store_free(g_st);
    g_st = NULL;
    clock_free(g_clock);
    g_clock = NULL;
}

static EVP_PKEY *new_key(void)
{
    EVP_PKEY *k = NULL;
    ck_assert_int_eq(key_generate(KEY_EC_P256, &k), MC_OK);
    return k;
}

static void new_account(char id[STORE_ID_LEN + 1])
{
    char existing[STORE_ID_LEN + 1];
    EVP_PKEY *k = new_key();
    ck_assert_int_eq(store_account_new(g_st, k, NULL, 0, true, NULL, id, existing), MC_OK);
    EVP_PKEY_free(k);
}

static uint64_t rand_zero(void *ctx)
{
    (void)ctx;
    return 0; /* 0 % 100 < any non-zero pct: reuse whenever allowed */
}

/* An order for the given DNS/IP names ("1.2.3.4" style values are IPs when ip[i]). */
static enum mc_err order_for(const char *acct, const char *const *names, size_t n,
                             unsigned reuse_pct, char id[STORE_ID_LEN + 1])
{
    struct ident_list l = {0};
    struct order_request req = {0};
    enum mc_err err;
    for (size_t i = 0; i < n; i++) {
        bool ip = strchr(names[i], ':') != NULL ||
                  (names[i][0] >= '0' && names[i][0] <= '9' && strchr(names[i], '-') == NULL &&
                   strspn(names[i], "0123456789.") == strlen(names[i]));
        ck_assert_int_eq(ident_list_add(&l, ip ? IDENT_IP : IDENT_DNS, names[i]), MC_OK);
    }
    req.idents = &l;
    req.types = all_types;
    req.n_types = 4;
    req.reuse_pct = reuse_pct;
    req.rand64 = rand_zero;
    err = store_order_new(g_st, acct, &req, id);
    ident_list_free(&l);
    return err;
}

static enum order_status order_status(const char *id)
{
    struct order_snap o;
    ck_assert_int_eq(store_order_get(g_st, id, &o), MC_OK);
    enum order_status s = o.status;
    order_snap_clear(&o);
    return s;
}

static enum authz_status authz_status(const char *id)
{
    struct authz_snap a;
    ck_assert_int_eq(store_authz_get(g_st, id, &a), MC_OK);
    enum authz_status s = a.status;
    authz_snap_clear(&a);
    return s;
}

/* Drives the first challenge of authz to valid. */
static void validate_authz(const char *authz_id)
{
    struct authz_snap a;
    ck_assert_int_eq(store_authz_get(g_st, authz_id, &a), MC_OK);
    ck_assert_int_eq(store_challenge_begin(g_st, a.challenges[0].id), MC_OK);
    ck_assert_int_eq(store_challenge_succeed(g_st, a.challenges[0].id), MC_OK);
    authz_snap_clear(&a);
}

static void validate_order(const char *order_id)
{
    struct order_snap o;
    ck_assert_int_eq(store_order_get(g_st, order_id, &o), MC_OK);
    for (size_t i = 0; i < o.n_authz; i++)
        validate_authz(o.authz_ids[i]);
    order_snap_clear(&o);
}

/* ---- accounts ----------------------------------------------------------------------- */

START_TEST(test_account_basics)
{
    char id[STORE_ID_LEN + 1], id2[STORE_ID_LEN + 1], existing[STORE_ID_LEN + 1], found[STORE_ID_LEN + 1];
    const char *contacts[] = {"mailto:a@example.com", "mailto:b@example.com"};
    const char *contacts2[] = {"mailto:c@example.com"};
    struct account_snap s;
    EVP_PKEY *k = new_key(), *other = new_key();

    ck_assert_int_eq(store_account_new(g_st, k, contacts, 2, true, "kid-1", id, existing), MC_OK);
    ck_assert_uint_eq(strlen(id), STORE_ID_LEN);
    ck_assert(b64url_is_alphabet(id, strlen(id)));
    ck_assert_int_eq(store_account_get(g_st, id, &s), MC_OK);
    ck_assert_int_eq(s.status, ACCT_VALID);
    ck_assert_uint_eq(s.n_contacts, 2);
    ck_assert_str_eq(s.contacts[1], "mailto:b@example.com");
    ck_assert_str_eq(s.eab_kid, "kid-1");
    ck_assert(s.tos_agreed);
    ck_assert_int_eq(s.created_ms, T0);
    ck_assert(jwk_equal(s.key, k));
    account_snap_clear(&s);

    ck_assert_int_eq(store_account_find_by_key(g_st, k, found), MC_OK);
    ck_assert_str_eq(found, id);
    ck_assert_int_eq(store_account_find_by_key(g_st, other, found), MC_ERR_NOT_FOUND);

    /* Same key again: the existing account's id comes back (RFC 8555 section 7.3.1). */
    ck_assert_int_eq(store_account_new(g_st, k, NULL, 0, true, NULL, id2, existing),
                     MC_ERR_EXISTS);
    ck_assert_str_eq(existing, id);

    ck_assert_int_eq(store_account_set_contacts(g_st, id, contacts2, 1), MC_OK);
    ck_assert_int_eq(store_account_get(g_st, id, &s), MC_OK);
    ck_assert_uint_eq(s.n_contacts, 1);
    ck_assert_str_eq(s.contacts[0], "mailto:c@example.com");
    account_snap_clear(&s);
    ck_assert_int_eq(store_account_get(g_st, "nope", &s), MC_ERR_NOT_FOUND);

    ck_assert_int_eq(store_account_deactivate(g_st, id), MC_OK);
    ck_assert_int_eq(store_account_deactivate(g_st, id), MC_ERR_STATE);
    ck_assert_int_eq(store_account_set_contacts(g_st, id, contacts2, 1), MC_ERR_STATE);
    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
}
END_TEST

START_TEST(test_account_deactivate_cascades)
{
    char acct[STORE_ID_LEN + 1], o1[STORE_ID_LEN + 1], o2[STORE_ID_LEN + 1];
    const char *names[] = {"a.example", "b.example"};
    const char *one[] = {"c.example"};
    struct order_snap os;
    struct authz_snap as;

    new_account(acct);
    ck_assert_int_eq(order_for(acct, names, 2, 0, o1), MC_OK);
    ck_assert_int_eq(order_for(acct, one, 1, 0, o2), MC_OK);
    validate_order(o2); /* o2 ready, its authz valid */
    ck_assert_int_eq(store_order_get(g_st, o1, &os), MC_OK);
    validate_authz(os.authz_ids[0]); /* o1 stays pending with one valid authz */
    ck_assert_int_eq(order_status(o1), ORDER_PENDING);
    ck_assert_int_eq(order_status(o2), ORDER_READY);

    ck_assert_int_eq(store_account_deactivate(g_st, acct), MC_OK);
    ck_assert_int_eq(order_status(o1), ORDER_INVALID);
    ck_assert_int_eq(order_status(o2), ORDER_INVALID);
    ck_assert_int_eq(authz_status(os.authz_ids[0]), AUTHZ_VALID); /* only pending ones go */
    ck_assert_int_eq(store_authz_get(g_st, os.authz_ids[1], &as), MC_OK);
    ck_assert_int_eq(as.status, AUTHZ_DEACTIVATED);
    authz_snap_clear(&as);
    order_snap_clear(&os);
    /* A deactivated account orders nothing more. */
    ck_assert_int_eq(order_for(acct, one, 1, 0, o2), MC_ERR_STATE);
}
END_TEST

START_TEST(test_account_rollover)
{
    char a[STORE_ID_LEN + 1], b[STORE_ID_LEN + 1], holder[STORE_ID_LEN + 1], found[STORE_ID_LEN + 1];
    char existing[STORE_ID_LEN + 1];
    EVP_PKEY *ka = new_key(), *kb = new_key(), *kfree = new_key();

    ck_assert_int_eq(store_account_new(g_st, ka, NULL, 0, true, NULL, a, existing), MC_OK);
    ck_assert_int_eq(store_account_new(g_st, kb, NULL, 0, true, NULL, b, existing), MC_OK);
    /* To another account's key, and to its own. */
    ck_assert_int_eq(store_account_rollover(g_st, a, kb, holder), MC_ERR_EXISTS);
    ck_assert_str_eq(holder, b);
    ck_assert_int_eq(store_account_rollover(g_st, a, ka, holder), MC_ERR_EXISTS);
    ck_assert_str_eq(holder, a);
    /* To a free key: the old one no longer finds the account, the new one does. */
    ck_assert_int_eq(store_account_rollover(g_st, a, kfree, holder), MC_OK);
    ck_assert_int_eq(store_account_find_by_key(g_st, kfree, found), MC_OK);
    ck_assert_str_eq(found, a);
    ck_assert_int_eq(store_account_find_by_key(g_st, ka, found), MC_ERR_NOT_FOUND);
    /* And the old key is free for a new account. */
    ck_assert_int_eq(store_account_new(g_st, ka, NULL, 0, true, NULL, holder, existing), MC_OK);
    EVP_PKEY_free(ka);
    EVP_PKEY_free(kb);
    EVP_PKEY_free(kfree);
}
END_TEST

/* ---- orders ------------------------------------------------------------------------- */

static bool has_type(const struct authz_snap *a, enum chall_type t)
{
    for (size_t i = 0; i < a->n_challenges; i++)
        if (a->challenges[i].type == t)
            return true;
    return false;
}

START_TEST(test_order_shape)
{
    char acct[STORE_ID_LEN + 1], oid[STORE_ID_LEN + 1];
    const char *names[] = {"www.example.com", "*.example.org", "192.0.2.1", "www.example.com"};
    struct order_snap o;
    char tokens[12][64];
    size_t nt = 0;
    bool seen_wild = false, seen_ip = false, seen_dns = false;

    new_account(acct);
    ck_assert_int_eq(order_for(acct, names, 4, 0, oid), MC_OK);
    ck_assert_int_eq(store_order_get(g_st, oid, &o), MC_OK);
    ck_assert_int_eq(o.status, ORDER_PENDING);
    ck_assert_str_eq(o.account_id, acct);
    ck_assert_uint_eq(o.idents.n, 3); /* the duplicate is kept once */
    ck_assert_str_eq(o.idents.v[1].value, "*.example.org");
    ck_assert_uint_eq(o.n_authz, 3);
    ck_assert_int_eq(o.expires_ms, T0 + 24 * HOUR);
    ck_assert_int_eq(o.created_ms, T0);
    for (size_t i = 0; i < o.n_authz; i++) {
        struct authz_snap a;
        ck_assert_int_eq(store_authz_get(g_st, o.authz_ids[i], &a), MC_OK);
        ck_assert_int_eq(a.status, AUTHZ_PENDING);
        ck_assert_int_eq(a.expires_ms, T0 + HOUR);
        ck_assert_str_eq(a.account_id, acct);
        if (a.wildcard) {
            seen_wild = true;
            ck_assert_str_eq(a.ident.value, "example.org");
            ck_assert_uint_eq(a.n_challenges, 2);
            ck_assert(has_type(&a, CHALL_DNS01) && has_type(&a, CHALL_DNSACCOUNT01));
        } else if (a.ident.type == IDENT_IP) {
            seen_ip = true;
            ck_assert_str_eq(a.ident.value, "192.0.2.1");
            ck_assert_uint_eq(a.n_challenges, 2);
            ck_assert(has_type(&a, CHALL_HTTP01) && has_type(&a, CHALL_TLSALPN01));
        } else {
            seen_dns = true;
            ck_assert_str_eq(a.ident.value, "www.example.com");
            ck_assert_uint_eq(a.n_challenges, 4);
        }
        for (size_t j = 0; j < a.n_challenges; j++) {
            struct challenge_snap c;
            ck_assert_uint_eq(strlen(a.challenges[j].token), 43);
            ck_assert(b64url_is_alphabet(a.challenges[j].token, 43));
            ck_assert_int_eq(a.challenges[j].status, CHALL_PENDING);
            ck_assert_uint_lt(nt, 12);
            memcpy(tokens[nt++], a.challenges[j].token, 64);
            ck_assert_int_eq(store_challenge_get(g_st, a.challenges[j].id, &c), MC_OK);
            ck_assert_str_eq(c.authz_id, a.id);
            ck_assert_str_eq(c.token, a.challenges[j].token);
        }
        authz_snap_clear(&a);
    }
    ck_assert(seen_wild && seen_ip && seen_dns);
    ck_assert_uint_eq(nt, 8);
    for (size_t i = 0; i < nt; i++)
        for (size_t j = i + 1; j < nt; j++)
            ck_assert_str_ne(tokens[i], tokens[j]);
    order_snap_clear(&o);
}
END_TEST

START_TEST(test_happy_path)
{
    char acct[STORE_ID_LEN + 1], oid[STORE_ID_LEN + 1];
    const char *names[] = {"a.example", "b.example"};
    struct order_snap o;
    struct authz_snap a;

    new_account(acct);
    ck_assert_int_eq(order_for(acct, names, 2, 0, oid), MC_OK);
    ck_assert_int_eq(store_order_get(g_st, oid, &o), MC_OK);
    clock_advance(g_clock, 1000);
    validate_authz(o.authz_ids[0]);
    ck_assert_int_eq(order_status(oid), ORDER_PENDING);
    ck_assert_int_eq(store_authz_get(g_st, o.authz_ids[0], &a), MC_OK);
    ck_assert_int_eq(a.status, AUTHZ_VALID);
    ck_assert_int_eq(a.challenges[0].status, CHALL_VALID);
    ck_assert_int_eq(a.challenges[0].validated_ms, T0 + 1000);
    ck_assert_int_eq(a.challenges[1].status, CHALL_PENDING); /* the others stay pending */
    ck_assert_int_eq(a.expires_ms, T0 + 1000 + 30 * 24 * HOUR);
    authz_snap_clear(&a);
    validate_authz(o.authz_ids[1]);
    ck_assert_int_eq(order_status(oid), ORDER_READY);
    ck_assert_int_eq(store_order_begin_finalize(g_st, oid), MC_OK);
    ck_assert_int_eq(order_status(oid), ORDER_PROCESSING);
    ck_assert_int_eq(store_order_complete(g_st, oid, "0a1b2c"), MC_OK);
    order_snap_clear(&o);
    ck_assert_int_eq(store_order_get(g_st, oid, &o), MC_OK);
    ck_assert_int_eq(o.status, ORDER_VALID);
    ck_assert_str_eq(o.cert_serial, "0a1b2c");
    order_snap_clear(&o);
}
END_TEST

START_TEST(test_challenge_failure)
{
    char acct[STORE_ID_LEN + 1], oid[STORE_ID_LEN + 1];
    const char *names[] = {"a.example", "b.example"};
    struct order_snap o;
    struct authz_snap a;
    struct acme_error e;

    new_account(acct);
    ck_assert_int_eq(order_for(acct, names, 2, 0, oid), MC_OK);
    ck_assert_int_eq(store_order_get(g_st, oid, &o), MC_OK);
    ck_assert_int_eq(store_authz_get(g_st, o.authz_ids[1], &a), MC_OK);
    acme_error_set(&e, ACME_P_INCORRECT_RESPONSE, 0, "key authorization mismatch");
    ck_assert_int_eq(store_challenge_begin(g_st, a.challenges[0].id), MC_OK);
    ck_assert_int_eq(store_challenge_fail(g_st, a.challenges[0].id, &e), MC_OK);
    authz_snap_clear(&a);
    ck_assert_int_eq(store_authz_get(g_st, o.authz_ids[1], &a), MC_OK);
    ck_assert_int_eq(a.status, AUTHZ_INVALID);
    ck_assert_int_eq(a.challenges[0].status, CHALL_INVALID);
    ck_assert_int_eq(a.challenges[0].error.type, ACME_P_INCORRECT_RESPONSE);
    authz_snap_clear(&a);
    order_snap_clear(&o);
    ck_assert_int_eq(store_order_get(g_st, oid, &o), MC_OK);
    ck_assert_int_eq(o.status, ORDER_INVALID);
    ck_assert_int_eq(o.error.type, ACME_P_INCORRECT_RESPONSE);
    ck_assert_str_eq(o.error.detail, "key authorization mismatch");
    order_snap_clear(&o);
}
END_TEST

START_TEST(test_illegal_transitions)
{
    char acct[STORE_ID_LEN + 1], oid[STORE_ID_LEN + 1], oid2[STORE_ID_LEN + 1];
    const char *names[] = {"a.example"};
    const char *names2[] = {"b.example"};
    struct order_snap o, o2;
    struct authz_snap a, a2;
    struct acme_error e;

    acme_error_set(&e, ACME_P_CONNECTION, 0, "refused");
    new_account(acct);
    ck_assert_int_eq(order_for(acct, names, 1, 0, oid), MC_OK);
    ck_assert_int_eq(store_order_get(g_st, oid, &o), MC_OK);
    ck_assert_int_eq(store_authz_get(g_st, o.authz_ids[0], &a), MC_OK);

    ck_assert_int_eq(store_order_begin_finalize(g_st, oid), MC_ERR_STATE); /* pending */
    ck_assert_int_eq(store_order_complete(g_st, oid, "01"), MC_ERR_STATE);
    ck_assert_int_eq(store_challenge_succeed(g_st, a.challenges[0].id), MC_ERR_STATE);
    ck_assert_int_eq(store_challenge_fail(g_st, a.challenges[0].id, &e), MC_ERR_STATE);
    ck_assert_int_eq(store_challenge_begin(g_st, a.challenges[0].id), MC_OK);
    ck_assert_int_eq(store_challenge_begin(g_st, a.challenges[0].id), MC_ERR_STATE);
    ck_assert_int_eq(store_challenge_succeed(g_st, a.challenges[0].id), MC_OK);
    ck_assert_int_eq(store_challenge_begin(g_st, a.challenges[0].id), MC_ERR_STATE); /* valid */
    /* Another challenge of a now-valid authorization can no longer start. */
    ck_assert_int_eq(store_challenge_begin(g_st, a.challenges[1].id), MC_ERR_STATE);
    ck_assert_int_eq(order_status(oid), ORDER_READY);
    ck_assert_int_eq(store_order_complete(g_st, oid, "01"), MC_ERR_STATE); /* ready */
    ck_assert_int_eq(store_order_begin_finalize(g_st, oid), MC_OK);
    ck_assert_int_eq(store_order_begin_finalize(g_st, oid), MC_ERR_STATE);
    ck_assert_int_eq(store_order_complete(g_st, oid, "01"), MC_OK);
    ck_assert_int_eq(store_order_fail(g_st, oid, &e), MC_ERR_STATE); /* valid is final */
    ck_assert_int_eq(store_order_complete(g_st, oid, "02"), MC_ERR_STATE);

    /* An invalid authorization cannot be deactivated; its order cannot be failed again. */
    ck_assert_int_eq(order_for(acct, names2, 1, 0, oid2), MC_OK);
    ck_assert_int_eq(store_order_get(g_st, oid2, &o2), MC_OK);
    ck_assert_int_eq(store_authz_get(g_st, o2.authz_ids[0], &a2), MC_OK);
    ck_assert_int_eq(store_challenge_begin(g_st, a2.challenges[0].id), MC_OK);
    ck_assert_int_eq(store_challenge_fail(g_st, a2.challenges[0].id, &e), MC_OK);
    ck_assert_int_eq(store_authz_deactivate(g_st, a2.id), MC_ERR_STATE);
    ck_assert_int_eq(store_order_fail(g_st, oid2, &e), MC_ERR_STATE);
    ck_assert_int_eq(store_challenge_begin(g_st, a2.challenges[1].id), MC_ERR_STATE);

    /* A valid authorization can be deactivated, once; its ready order follows. */
    ck_assert_int_eq(store_authz_deactivate(g_st, a.id), MC_OK);
    ck_assert_int_eq(store_authz_deactivate(g_st, a.id), MC_ERR_STATE);
    ck_assert_int_eq(authz_status(a.id), AUTHZ_DEACTIVATED);
    ck_assert_int_eq(order_status(oid), ORDER_VALID); /* a finished order stays finished */

    ck_assert_int_eq(store_order_begin_finalize(g_st, "missing"), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(store_challenge_begin(g_st, "missing"), MC_ERR_NOT_FOUND);
    authz_snap_clear(&a);
    authz_snap_clear(&a2);
    order_snap_clear(&o);
    order_snap_clear(&o2);
}
END_TEST

START_TEST(test_authz_deactivate_fails_orders)
{
    char acct[STORE_ID_LEN + 1], oid[STORE_ID_LEN + 1];
    const char *names[] = {"a.example", "b.example"};
    struct order_snap o;

    new_account(acct);
    ck_assert_int_eq(order_for(acct, names, 2, 0, oid), MC_OK);
    ck_assert_int_eq(store_order_get(g_st, oid, &o), MC_OK);
    ck_assert_int_eq(store_authz_deactivate(g_st, o.authz_ids[0]), MC_OK);
    order_snap_clear(&o);
    ck_assert_int_eq(store_order_get(g_st, oid, &o), MC_OK);
    ck_assert_int_eq(o.status, ORDER_INVALID);
    ck_assert_int_eq(o.error.type, ACME_P_NONE);
    order_snap_clear(&o);
}
END_TEST

START_TEST(test_order_fail_and_bad_input)
{
    char acct[STORE_ID_LEN + 1], oid[STORE_ID_LEN + 1];
    const char *names[] = {"a.example"};
    const char *wild[] = {"*.a.example"};
    struct order_snap o;
    struct acme_error e;
    struct ident_list empty = {0};
    struct order_request req = {.idents = &empty, .types = all_types, .n_types = 4};
    static const enum chall_type http_only[] = {CHALL_HTTP01};
    struct ident_list l = {0};

    new_account(acct);
    ck_assert_int_eq(order_for(acct, names, 1, 0, oid), MC_OK);
    acme_error_set(&e, ACME_P_BAD_CSR, 0, "bad");
    ck_assert_int_eq(store_order_fail(g_st, oid, &e), MC_OK);
    ck_assert_int_eq(store_order_get(g_st, oid, &o), MC_OK);
    ck_assert_int_eq(o.status, ORDER_INVALID);
    ck_assert_int_eq(o.error.type, ACME_P_BAD_CSR);
    order_snap_clear(&o);
    ck_assert_int_eq(store_order_new(g_st, acct, &req, oid), MC_ERR_INVALID);
    ck_assert_int_eq(order_for("no-such-account", names, 1, 0, oid), MC_ERR_NOT_FOUND);
    /* A wildcard offered only http-01 cannot be proven: refused, nothing left behind. */
    struct store_counts before, after;
    store_counts(g_st, &before);
    ck_assert_int_eq(ident_list_add(&l, IDENT_DNS, wild[0]), MC_OK);
    req.idents = &l;
    req.types = http_only;
    req.n_types = 1;
    ck_assert_int_eq(store_order_new(g_st, acct, &req, oid), MC_ERR_UNSUPPORTED);
    store_counts(g_st, &after);
    ck_assert_uint_eq(after.orders, before.orders);
    ck_assert_uint_eq(after.authzs, before.authzs);
    ck_assert_uint_eq(after.challenges, before.challenges);
    ident_list_free(&l);
}
END_TEST

/* ---- reuse and pre-authorization ------------------------------------------------------ */

START_TEST(test_reuse)
{
    char acct[STORE_ID_LEN + 1], other[STORE_ID_LEN + 1];
    char o1[STORE_ID_LEN + 1], o2[STORE_ID_LEN + 1], o3[STORE_ID_LEN + 1], o4[STORE_ID_LEN + 1];
    const char *names[] = {"a.example", "*.a.example"};
    const char *plain[] = {"a.example"};
    struct order_snap s1, s2, s3, s4;

    new_account(acct);
    new_account(other);
    ck_assert_int_eq(order_for(acct, names, 2, 100, o1), MC_OK);
    ck_assert_int_eq(order_status(o1), ORDER_PENDING); /* nothing to reuse yet */
    validate_order(o1);
    ck_assert_int_eq(order_status(o1), ORDER_READY);
    ck_assert_int_eq(store_order_get(g_st, o1, &s1), MC_OK);

    /* 100%: both authorizations reused (wildcard flag matched), ready at once. */
    ck_assert_int_eq(order_for(acct, names, 2, 100, o2), MC_OK);
    ck_assert_int_eq(order_status(o2), ORDER_READY);
    ck_assert_int_eq(store_order_get(g_st, o2, &s2), MC_OK);
    ck_assert_str_eq(s2.authz_ids[0], s1.authz_ids[0]);
    ck_assert_str_eq(s2.authz_ids[1], s1.authz_ids[1]);

    /* 0%: never. */
    ck_assert_int_eq(order_for(acct, plain, 1, 0, o3), MC_OK);
    ck_assert_int_eq(order_status(o3), ORDER_PENDING);
    ck_assert_int_eq(store_order_get(g_st, o3, &s3), MC_OK);
    ck_assert_str_ne(s3.authz_ids[0], s1.authz_ids[0]);

    /* Another account's valid authorization: never. */
    ck_assert_int_eq(order_for(other, plain, 1, 100, o4), MC_OK);
    ck_assert_int_eq(order_status(o4), ORDER_PENDING);
    ck_assert_int_eq(store_order_get(g_st, o4, &s4), MC_OK);
    ck_assert_str_ne(s4.authz_ids[0], s1.authz_ids[0]);

    /* The shared authorization deactivated: both ready orders that use it go invalid. */
    ck_assert_int_eq(store_authz_deactivate(g_st, s1.authz_ids[0]), MC_OK);
    ck_assert_int_eq(order_status(o1), ORDER_INVALID);
    ck_assert_int_eq(order_status(o2), ORDER_INVALID);
    order_snap_clear(&s1);
    order_snap_clear(&s2);
    order_snap_clear(&s3);
    order_snap_clear(&s4);
}
END_TEST

START_TEST(test_pre_authorization)
{
    char acct[STORE_ID_LEN + 1], aid[STORE_ID_LEN + 1], oid[STORE_ID_LEN + 1];
    struct ident id = {IDENT_DNS, "pre.example"};
    const char *names[] = {"pre.example"};
    struct authz_snap a;
    struct order_snap o;

    new_account(acct);
    ck_assert_int_eq(store_authz_new(g_st, acct, &id, all_types, 4, aid), MC_OK);
    ck_assert_int_eq(store_authz_get(g_st, aid, &a), MC_OK);
    ck_assert_int_eq(a.status, AUTHZ_PENDING);
    ck_assert(!a.wildcard);
    ck_assert_uint_eq(a.n_challenges, 4);
    authz_snap_clear(&a);
    validate_authz(aid);
    ck_assert_int_eq(authz_status(aid), AUTHZ_VALID);
    /* The pre-authorization serves a later order. */
    ck_assert_int_eq(order_for(acct, names, 1, 100, oid), MC_OK);
    ck_assert_int_eq(store_order_get(g_st, oid, &o), MC_OK);
    ck_assert_int_eq(o.status, ORDER_READY);
    ck_assert_str_eq(o.authz_ids[0], aid);
    order_snap_clear(&o);
}
END_TEST

/* ---- expiry and retention ------------------------------------------------------------- */

START_TEST(test_expiry)
{
    char acct[STORE_ID_LEN + 1], o1[STORE_ID_LEN + 1], o2[STORE_ID_LEN + 1];
    const char *names[] = {"a.example"};
    const char *names2[] = {"b.example"};
    struct order_snap s;

    new_account(acct);
    ck_assert_int_eq(order_for(acct, names, 1, 0, o1), MC_OK);
    ck_assert_int_eq(order_for(acct, names2, 1, 0, o2), MC_OK);
    validate_order(o2);
    ck_assert_int_eq(store_order_get(g_st, o1, &s), MC_OK);

    clock_advance(g_clock, HOUR - 1);
    ck_assert_int_eq(authz_status(s.authz_ids[0]), AUTHZ_PENDING);
    clock_advance(g_clock, 1); /* exactly at expires: expired */
    ck_assert_int_eq(authz_status(s.authz_ids[0]), AUTHZ_EXPIRED);
    ck_assert_int_eq(order_status(o1), ORDER_INVALID);
    order_snap_clear(&s);
    ck_assert_int_eq(store_order_get(g_st, o1, &s), MC_OK);
    struct authz_snap a;
    ck_assert_int_eq(store_authz_get(g_st, s.authz_ids[0], &a), MC_OK);
    /* Its challenge can no longer be started. */
    ck_assert_int_eq(store_challenge_begin(g_st, a.challenges[0].id), MC_ERR_STATE);
    authz_snap_clear(&a);
    order_snap_clear(&s);

    /* The ready order runs out at its own expiry. */
    ck_assert_int_eq(order_status(o2), ORDER_READY);
    clock_advance(g_clock, 23 * HOUR);
    ck_assert_int_eq(store_order_begin_finalize(g_st, o2), MC_ERR_STATE);
    ck_assert_int_eq(store_order_get(g_st, o2, &s), MC_OK);
    ck_assert_int_eq(s.status, ORDER_INVALID);
    ck_assert_int_eq(s.error.type, ACME_P_NONE); /* as Pebble and Boulder: no error type */
    order_snap_clear(&s);
}
END_TEST

START_TEST(test_retention)
{
    char acct[STORE_ID_LEN + 1], gone[STORE_ID_LEN + 1], o1[STORE_ID_LEN + 1], o2[STORE_ID_LEN + 1];
    char o3[STORE_ID_LEN + 1];
    const char *names[] = {"a.example", "b.example"};
    const char *names3[] = {"c.example"};
    struct store_counts c;
    struct order_snap s1, tmp;
    struct authz_snap as;
    struct account_snap acs;

    new_account(acct);
    new_account(gone);
    ck_assert_int_eq(order_for(acct, names, 2, 0, o1), MC_OK);
    validate_order(o1);
    ck_assert_int_eq(store_order_begin_finalize(g_st, o1), MC_OK);
    ck_assert_int_eq(store_order_complete(g_st, o1, "beef"), MC_OK);
    ck_assert_int_eq(order_for(gone, names3, 1, 0, o2), MC_OK);
    ck_assert_int_eq(store_account_deactivate(g_st, gone), MC_OK);
    ck_assert_int_eq(store_order_get(g_st, o1, &s1), MC_OK);
    ck_assert_int_eq(store_authz_get(g_st, s1.authz_ids[0], &as), MC_OK);

    store_counts(g_st, &c);
    ck_assert_uint_eq(c.accounts, 2);
    ck_assert_uint_eq(c.orders, 2);
    ck_assert_uint_eq(c.authzs, 3);
    ck_assert_uint_eq(c.challenges, 12);
    ck_assert_uint_eq(store_sweep(g_st), 0); /* nothing old enough yet */

    clock_advance(g_clock, 2 * HOUR);
    ck_assert_int_eq(order_for(acct, names3, 1, 0, o3), MC_OK); /* fresh, stays */
    /* o1 (valid) and o2 (invalid) go, with gone's deactivated authz and gone itself; o1's
     * valid authorizations stay (valid for reuse for 30 days). */
    ck_assert_uint_eq(store_sweep(g_st), 1 + 1 + (1 + 4) + 1);
    store_counts(g_st, &c);
    ck_assert_uint_eq(c.accounts, 1);
    ck_assert_uint_eq(c.orders, 1);
    ck_assert_uint_eq(c.authzs, 3);
    ck_assert_int_eq(store_order_get(g_st, o1, &tmp), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(store_order_get(g_st, o2, &tmp), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(store_account_get(g_st, gone, &acs), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(store_account_get(g_st, acct, &acs), MC_OK);
    account_snap_clear(&acs);
    ck_assert_int_eq(authz_status(s1.authz_ids[0]), AUTHZ_VALID);

    /* Past the valid lifetime plus retention, everything but the valid account goes. */
    clock_advance(g_clock, 31 * 24 * HOUR);
    ck_assert_uint_gt(store_sweep(g_st), 0);
    store_counts(g_st, &c);
    ck_assert_uint_eq(c.accounts, 1);
    ck_assert_uint_eq(c.orders, 0);
    ck_assert_uint_eq(c.authzs, 0);
    ck_assert_uint_eq(c.challenges, 0);
    char aid[STORE_ID_LEN + 1];
    memcpy(aid, as.id, sizeof(aid));
    authz_snap_clear(&as);
    ck_assert_int_eq(store_authz_get(g_st, aid, &as), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(store_order_get(g_st, o3, &tmp), MC_ERR_NOT_FOUND);

    /* The snapshot is a copy: still whole after its object is gone. */
    ck_assert_int_eq(s1.status, ORDER_VALID);
    ck_assert_str_eq(s1.cert_serial, "beef");
    ck_assert_str_eq(s1.idents.v[1].value, "b.example");
    order_snap_clear(&s1);

    /* The account's order list went with them. */
    char (*ids)[STORE_ID_LEN + 1] = NULL;
    size_t n, total;
    ck_assert_int_eq(store_account_orders(g_st, acct, 0, 10, &ids, &n, &total), MC_OK);
    ck_assert_uint_eq(total, 0);
    ck_assert_uint_eq(n, 0);
    free(ids);
}
END_TEST

START_TEST(test_retention_from_expiry)
{
    char acct[STORE_ID_LEN + 1], aid[STORE_ID_LEN + 1], oid[STORE_ID_LEN + 1];
    struct ident id = {IDENT_DNS, "pre.example"};
    const char *names[] = {"a.example"};
    struct store_counts c;
    struct order_snap o;
    struct authz_snap a;

    new_account(acct);
    ck_assert_int_eq(store_authz_new(g_st, acct, &id, all_types, 4, aid), MC_OK);
    /* A processing order whose authorization is deactivated keeps it: the authorization
     * must not be dropped from under the order. */
    ck_assert_int_eq(order_for(acct, names, 1, 0, oid), MC_OK);
    validate_order(oid);
    ck_assert_int_eq(store_order_begin_finalize(g_st, oid), MC_OK);
    ck_assert_int_eq(store_order_get(g_st, oid, &o), MC_OK);
    ck_assert_int_eq(store_authz_deactivate(g_st, o.authz_ids[0]), MC_OK);
    ck_assert_int_eq(order_status(oid), ORDER_PROCESSING);

    /* The pre-authorization expired at T0 + 1 h; retention (2 h) counts from then, so a
     * first look at T0 + 3 h drops it at once. */
    clock_advance(g_clock, 3 * HOUR);
    ck_assert_uint_eq(store_sweep(g_st), 1 + 4);
    store_counts(g_st, &c);
    ck_assert_uint_eq(c.authzs, 1);
    ck_assert_int_eq(store_authz_get(g_st, aid, &a), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(store_authz_get(g_st, o.authz_ids[0], &a), MC_OK);
    ck_assert_int_eq(a.status, AUTHZ_DEACTIVATED);
    authz_snap_clear(&a);
    ck_assert_int_eq(store_order_complete(g_st, oid, "77"), MC_OK);
    order_snap_clear(&o);
}
END_TEST

START_TEST(test_paging)
{
    char acct[STORE_ID_LEN + 1], oids[5][STORE_ID_LEN + 1];
    const char *names[] = {"a.example"};
    char (*ids)[STORE_ID_LEN + 1] = NULL;
    size_t n, total;

    new_account(acct);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(order_for(acct, names, 1, 0, oids[i]), MC_OK);
    ck_assert_int_eq(store_account_orders(g_st, acct, 0, 2, &ids, &n, &total), MC_OK);
    ck_assert_uint_eq(total, 5);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(ids[0], oids[4]); /* newest first */
    ck_assert_str_eq(ids[1], oids[3]);
    free(ids);
    ck_assert_int_eq(store_account_orders(g_st, acct, 4, 2, &ids, &n, &total), MC_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ids[0], oids[0]);
    free(ids);
    ck_assert_int_eq(store_account_orders(g_st, acct, 5, 2, &ids, &n, &total), MC_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(total, 5);
    free(ids);
    ck_assert_int_eq(store_account_orders(g_st, "missing", 0, 2, &ids, &n, &total),
                     MC_ERR_NOT_FOUND);
}
END_TEST

START_TEST(test_object_bound)
{
    char acct[STORE_ID_LEN + 1], id[STORE_ID_LEN + 1], existing[STORE_ID_LEN + 1];
    const char *names[] = {"a.example"};
    struct store_counts c;
    EVP_PKEY *k;

    g_st->max_objects = 8; /* also caps challenges: two authorizations of 4 */
    new_account(acct);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(order_for(acct, names, 1, 0, id), MC_OK);
    ck_assert_int_eq(order_for(acct, names, 1, 0, id), MC_ERR_LIMIT);
    store_counts(g_st, &c);
    ck_assert_uint_eq(c.orders, 2);
    ck_assert_uint_eq(c.challenges, 8);
    for (int i = 0; i < 7; i++)
        new_account(id);
    k = new_key();
    ck_assert_int_eq(store_account_new(g_st, k, NULL, 0, true, NULL, id, existing), MC_ERR_LIMIT);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- concurrency ---------------------------------------------------------------------- */

#define TH_N 4
#define TH_ORDERS 25

struct th_arg {
    char acct[STORE_ID_LEN + 1];
    int failures;
};

static void *th_main(void *p)
{
    struct th_arg *t = p;
    const char *names[] = {"a.example", "b.example"};
    for (int i = 0; i < TH_ORDERS; i++) {
        char oid[STORE_ID_LEN + 1];
        struct order_snap o;
        if (order_for(t->acct, names, 2, 0, oid) != MC_OK ||
            store_order_get(g_st, oid, &o) != MC_OK) {
            t->failures++;
            continue;
        }
        for (size_t j = 0; j < o.n_authz; j++) {
            struct authz_snap a;
            if (store_authz_get(g_st, o.authz_ids[j], &a) != MC_OK) {
                t->failures++;
                continue;
            }
            if (store_challenge_begin(g_st, a.challenges[0].id) != MC_OK ||
                store_challenge_succeed(g_st, a.challenges[0].id) != MC_OK)
                t->failures++;
            authz_snap_clear(&a);
        }
        if (store_order_begin_finalize(g_st, oid) != MC_OK ||
            store_order_complete(g_st, oid, "01") != MC_OK)
            t->failures++;
        order_snap_clear(&o);
        (void)store_sweep(g_st); /* nothing is old enough; it must not disturb */
    }
    return NULL;
}

START_TEST(test_concurrent)
{
    pthread_t th[TH_N];
    struct th_arg args[TH_N];
    struct store_counts c;

    memset(args, 0, sizeof(args));
    for (int i = 0; i < TH_N; i++)
        new_account(args[i].acct);
    for (int i = 0; i < TH_N; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, th_main, &args[i]), 0);
    for (int i = 0; i < TH_N; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_int_eq(args[i].failures, 0);
    }
    store_counts(g_st, &c);
    ck_assert_uint_eq(c.accounts, TH_N);
    ck_assert_uint_eq(c.orders, TH_N * TH_ORDERS);
    ck_assert_uint_eq(c.authzs, TH_N * TH_ORDERS * 2);
    ck_assert_uint_eq(c.challenges, TH_N * TH_ORDERS * 2 * 4);
    for (int i = 0; i < TH_N; i++) {
        char (*ids)[STORE_ID_LEN + 1] = NULL;
        size_t n, total;
        ck_assert_int_eq(store_account_orders(g_st, args[i].acct, 0, 100, &ids, &n, &total),
                         MC_OK);
        ck_assert_uint_eq(total, TH_ORDERS);
        for (size_t j = 0; j < n; j++)
            ck_assert_int_eq(order_status(ids[j]), ORDER_VALID);
        free(ids);
    }
    /* Everything is final; past retention it all goes but the accounts. */
    clock_advance(g_clock, 31 * 24 * HOUR);
    (void)store_sweep(g_st);
    store_counts(g_st, &c);
    ck_assert_uint_eq(c.orders, 0);
    ck_assert_uint_eq(c.authzs, 0);
    ck_assert_uint_eq(c.challenges, 0);
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(chall_type_name(CHALL_DNSACCOUNT01), "dns-account-01");
    ck_assert_str_eq(chall_type_name(CHALL_TLSALPN01), "tls-alpn-01");
    ck_assert_str_eq(order_status_name(ORDER_READY), "ready");
    ck_assert_str_eq(authz_status_name(AUTHZ_EXPIRED), "expired");
    ck_assert_str_eq(chall_status_name(CHALL_PROCESSING), "processing");
    ck_assert_str_eq(acct_status_name(ACCT_DEACTIVATED), "deactivated");
}
END_TEST

/* ---- shuffling and compact errors ------------------------------------------------------ */

#include "common/prng.h"

static uint64_t rand_prng(void *ctx)
{
    return prng_next(ctx);
}

/* Appends s to the NUL-terminated out of cap bytes; the test fails rather than overflow. */
static void append_to(char *out, size_t cap, const char *s)
{
    size_t have = strlen(out), add = strlen(s);
    ck_assert_uint_lt(have + add, cap);
    memcpy(out + have, s, add + 1);
}

/* A store shuffled from seed; one order for five names: the identifiers, then each
 * authorization's identifier and challenge types, as one string (new). */
static char *shuffled_with(uint64_t seed)
{
    static const char *const names[] = {"a.example", "b.example", "c.example", "d.example",
                                        "e.example"};
    struct store_config cfg = {0};
    struct store *st = NULL, *saved = g_st;
    struct prng p;
    struct order_snap o;
    char acct[STORE_ID_LEN + 1], oid[STORE_ID_LEN + 1], *out = calloc(1, 2048);

    prng_seed(&p, seed);
    cfg.clock = g_clock;
    cfg.shuffle = true;
    cfg.rand64 = rand_prng;
    cfg.rand_ctx = &p;
    ck_assert_int_eq(store_new(&cfg, &st), MC_OK);
    g_st = st;
    new_account(acct);
    ck_assert_int_eq(order_for(acct, names, 5, 0, oid), MC_OK);
    ck_assert_int_eq(store_order_get(st, oid, &o), MC_OK);
    for (size_t i = 0; i < o.idents.n; i++) {
        append_to(out, 2048, o.idents.v[i].value);
        append_to(out, 2048, " ");
    }
    for (size_t i = 0; i < o.n_authz; i++) {
        struct authz_snap a;
        ck_assert_int_eq(store_authz_get(st, o.authz_ids[i], &a), MC_OK);
        append_to(out, 2048, "|");
        append_to(out, 2048, a.ident.value);
        for (size_t j = 0; j < a.n_challenges; j++) {
            append_to(out, 2048, ",");
            append_to(out, 2048, chall_type_name(a.challenges[j].type));
        }
        authz_snap_clear(&a);
    }
    order_snap_clear(&o);
    g_st = saved;
    store_free(st);
    return out;
}

START_TEST(test_shuffle_seeded)
{
    char *a = shuffled_with(1), *b = shuffled_with(1), *c = NULL;
    bool differs = false;
    struct store_config cfg = {0};
    struct store *st = NULL;

    ck_assert_str_eq(a, b); /* the same seed replays */
    for (uint64_t s = 2; s < 12 && !differs; s++) {
        free(c);
        c = shuffled_with(s);
        differs = strcmp(a, c) != 0;
    }
    ck_assert_msg(differs, "ten seeds, one order: %s", a);
    /* Without shuffle the order is the request's and the types' (store.h). */
    cfg.clock = g_clock;
    ck_assert_int_eq(store_new(&cfg, &st), MC_OK);
    store_free(g_st);
    g_st = st;
    {
        const char *names[] = {"x.example", "y.example"};
        char acct[STORE_ID_LEN + 1], oid[STORE_ID_LEN + 1];
        struct order_snap o;
        struct authz_snap az;
        new_account(acct);
        ck_assert_int_eq(order_for(acct, names, 2, 0, oid), MC_OK);
        ck_assert_int_eq(store_order_get(g_st, oid, &o), MC_OK);
        ck_assert_str_eq(o.idents.v[0].value, "x.example");
        ck_assert_int_eq(store_authz_get(g_st, o.authz_ids[0], &az), MC_OK);
        ck_assert_str_eq(az.ident.value, "x.example");
        ck_assert_int_eq(az.challenges[0].type, CHALL_HTTP01);
        authz_snap_clear(&az);
        order_snap_clear(&o);
    }
    free(a);
    free(b);
    free(c);
}
END_TEST

/* Errors are held only by failed objects, sized to their detail: an authorization (kept
 * 30 days when valid) no longer carries four 512-byte details inline. */
START_TEST(test_compact_errors)
{
    char acct[STORE_ID_LEN + 1], oid[STORE_ID_LEN + 1];
    const char *names[] = {"c.example"};
    struct order_snap o;
    struct s_authz *a;
    struct acme_error e;

    ck_assert_uint_lt(sizeof(struct s_authz), 1024);
    ck_assert_uint_lt(sizeof(struct s_order), 512);
    new_account(acct);
    ck_assert_int_eq(order_for(acct, names, 1, 0, oid), MC_OK);
    ck_assert_int_eq(store_order_get(g_st, oid, &o), MC_OK);
    a = hm_get(&g_st->authzs, o.authz_ids[0]);
    ck_assert_ptr_nonnull(a);
    for (size_t i = 0; i < a->n_ch; i++)
        ck_assert_ptr_null(a->ch[i].error);
    acme_error_set(&e, ACME_P_CONNECTION, 0, "refused");
    ck_assert_int_eq(store_challenge_begin(g_st, a->ch[0].id), MC_OK);
    ck_assert_int_eq(store_challenge_fail(g_st, a->ch[0].id, &e), MC_OK);
    ck_assert_ptr_nonnull(a->ch[0].error);
    ck_assert_str_eq(a->ch[0].error->detail, "refused");
    ck_assert_ptr_null(a->ch[1].error);
    order_snap_clear(&o);
    ck_assert_int_eq(store_order_get(g_st, oid, &o), MC_OK);
    ck_assert_int_eq(o.error.type, ACME_P_CONNECTION);
    ck_assert_str_eq(o.error.detail, "refused");
    order_snap_clear(&o);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_account_basics);
    tcase_add_test(tc, test_account_deactivate_cascades);
    tcase_add_test(tc, test_account_rollover);
    tcase_add_test(tc, test_order_shape);
    tcase_add_test(tc, test_happy_path);
    tcase_add_test(tc, test_challenge_failure);
    tcase_add_test(tc, test_illegal_transitions);
    tcase_add_test(tc, test_authz_deactivate_fails_orders);
    tcase_add_test(tc, test_order_fail_and_bad_input);
    tcase_add_test(tc, test_reuse);
    tcase_add_test(tc, test_pre_authorization);
    tcase_add_test(tc, test_expiry);
    tcase_add_test(tc, test_retention);
    tcase_add_test(tc, test_retention_from_expiry);
    tcase_add_test(tc, test_paging);
    tcase_add_test(tc, test_object_bound);
    tcase_add_test(tc, test_concurrent);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_shuffle_seeded);
    tcase_add_test(tc, test_compact_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(store_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
