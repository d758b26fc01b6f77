/* Unit tests for dnsmock/zone.c: the record store. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmock/zone.h"

/* ---- normalization ----------------------------------------------------------------- */

static const struct {
    const char *in;
    enum mc_err err;
    const char *out;
} norm_rows[] = {
    {"Example.COM", MC_OK, "example.com."},
    {"example.com.", MC_OK, "example.com."},
    {"_acme-challenge.WWW.example.org", MC_OK, "_acme-challenge.www.example.org."},
    {"", MC_OK, "."},
    {".", MC_OK, "."},
    {"*.wild.test", MC_OK, "*.wild.test."},
    {"a..b", MC_ERR_INVALID, NULL},
    {".a", MC_ERR_INVALID, NULL},
    {"a b.com", MC_ERR_INVALID, NULL},
    {"caf\xc3\xa9.com", MC_ERR_INVALID, NULL},
    {"tab\t.com", MC_ERR_INVALID, NULL},
    {"a..", MC_ERR_INVALID, NULL},
    /* a 64-byte label */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", MC_ERR_INVALID, NULL},
    /* a 63-byte label is fine */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", MC_OK,
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com."},
};

START_TEST(test_normalize)
{
    char out[ZONE_NAME_MAX];
    const char *in = norm_rows[_i].in;
    enum mc_err err = zone_name_normalize(in, out, sizeof(out));
    ck_assert_msg(err == norm_rows[_i].err, "row %d (%s): got %d", _i, in, err);
    if (norm_rows[_i].out != NULL)
        ck_assert_str_eq(out, norm_rows[_i].out);
}
END_TEST

START_TEST(test_normalize_long)
{
    char in[300], out[ZONE_NAME_MAX];
    /* 4 labels of 63 + 3 dots = 255 > 253 */
    size_t o = 0;
    for (int l = 0; l < 4; l++) {
        memset(in + o, 'a', 63);
        o += 63;
        in[o++] = '.';
    }
    in[o - 1] = '\0';
    ck_assert_int_eq(zone_name_normalize(in, out, sizeof(out)), MC_ERR_INVALID);
    ck_assert_int_eq(zone_name_normalize(NULL, out, sizeof(out)), MC_ERR_INVALID);
    /* 253 characters exactly is allowed */
    memset(in, 'b', 253);
    for (int i = 63; i < 253; i += 64)
        in[i] = '.';
    in[253] = '\0';
    ck_assert_int_eq(zone_name_normalize(in, out, sizeof(out)), MC_OK);
    ck_assert_uint_eq(strlen(out), 254);
}
END_TEST

/* ---- helpers ----------------------------------------------------------------------- */

/* Collects (name, type) and renders every RR in ldns's text form, one per line. */
static char *collect_text(struct zone_store *zs, const char *name, ldns_rr_type type)
{
    ldns_rr_list *l = ldns_rr_list_new();
    ck_assert_ptr_nonnull(l);
    zone_rdlock(zs);
    enum mc_err err = zone_collect_locked(zs, name, type, l);
    zone_unlock(zs);
    ck_assert_int_eq(err, MC_OK);
    char *s = ldns_rr_list2str(l);
    ldns_rr_list_deep_free(l);
    ck_assert_ptr_nonnull(s);
    return s;
}

static size_t collect_count(struct zone_store *zs, const char *name, ldns_rr_type type)
{
    ldns_rr_list *l = ldns_rr_list_new();
    zone_rdlock(zs);
    ck_assert_int_eq(zone_collect_locked(zs, name, type, l), MC_OK);
    zone_unlock(zs);
    size_t n = ldns_rr_list_rr_count(l);
    ldns_rr_list_deep_free(l);
    return n;
}

static void expect_text(struct zone_store *zs, const char *name, ldns_rr_type type,
                        const char *want)
{
    char *got = collect_text(zs, name, type);
    ck_assert_msg(strcmp(got, want) == 0, "%s type %d:\n got: %s\nwant: %s", name, type, got, want);
    free(got);
}

static bool exists(struct zone_store *zs, const char *name)
{
    zone_rdlock(zs);
    bool b = zone_name_exists_locked(zs, name);
    zone_unlock(zs);
    return b;
}

/* ---- mutators ---------------------------------------------------------------------- */

START_TEST(test_a_aaaa)
{
    struct zone_store *zs = zone_store_new();
    ck_assert_ptr_nonnull(zs);
    ck_assert_int_eq(zone_add_a(zs, "Host.Example.com", "192.0.2.1"), MC_OK);
    ck_assert_int_eq(zone_add_a(zs, "host.example.com.", "192.0.2.2"), MC_OK);
    ck_assert_int_eq(zone_add_a(zs, "host.example.com", "192.0.2.1"), MC_OK); /* kept once */
    ck_assert_int_eq(zone_add_a(zs, "host.example.com", "::1"), MC_ERR_INVALID);
    ck_assert_int_eq(zone_add_a(zs, "host.example.com", "300.1.1.1"), MC_ERR_INVALID);
    ck_assert_int_eq(zone_add_a(zs, "bad..name", "192.0.2.1"), MC_ERR_INVALID);
    expect_text(zs, "HOST.example.com", LDNS_RR_TYPE_A,
                "host.example.com.\t0\tIN\tA\t192.0.2.1\n"
                "host.example.com.\t0\tIN\tA\t192.0.2.2\n");
    ck_assert_int_eq(zone_add_aaaa(zs, "host.example.com", "2001:db8::1"), MC_OK);
    ck_assert_int_eq(zone_add_aaaa(zs, "host.example.com", "192.0.2.1"), MC_ERR_INVALID);
    expect_text(zs, "host.example.com", LDNS_RR_TYPE_AAAA,
                "host.example.com.\t0\tIN\tAAAA\t2001:db8::1\n");
    ck_assert_int_eq(zone_clear_a(zs, "host.example.com"), MC_OK);
    ck_assert_uint_eq(collect_count(zs, "host.example.com", LDNS_RR_TYPE_A), 0);
    ck_assert_uint_eq(collect_count(zs, "host.example.com", LDNS_RR_TYPE_AAAA), 1);
    ck_assert_int_eq(zone_clear_aaaa(zs, "host.example.com"), MC_OK);
    ck_assert(!exists(zs, "host.example.com"));
    ck_assert(!exists(zs, "example.com")); /* ancestors go with the last record */
    ck_assert_int_eq(zone_clear_a(zs, "never.example.com"), MC_OK);
    zone_store_free(zs);
}
END_TEST

START_TEST(test_txt)
{
    struct zone_store *zs = zone_store_new();
    char big[300];
    memset(big, 'x', sizeof(big));
    ck_assert_int_eq(zone_add_txt(zs, "_acme-challenge.a.test", "one", 3), MC_OK);
    ck_assert_int_eq(zone_add_txt(zs, "_acme-challenge.a.test", "two words", 9), MC_OK);
    expect_text(zs, "_acme-challenge.a.test", LDNS_RR_TYPE_TXT,
                "_acme-challenge.a.test.\t0\tIN\tTXT\t\"one\"\n"
                "_acme-challenge.a.test.\t0\tIN\tTXT\t\"two words\"\n");
    /* Over 255 bytes: two character-strings, 255 + 45. */
    ck_assert_int_eq(zone_add_txt(zs, "big.test", big, sizeof(big)), MC_OK);
    ldns_rr_list *l = ldns_rr_list_new();
    zone_rdlock(zs);
    ck_assert_int_eq(zone_collect_locked(zs, "big.test", LDNS_RR_TYPE_TXT, l), MC_OK);
    zone_unlock(zs);
    ck_assert_uint_eq(ldns_rr_list_rr_count(l), 1);
    ldns_rr *rr = ldns_rr_list_rr(l, 0);
    ck_assert_uint_eq(ldns_rr_rd_count(rr), 2);
    ck_assert_uint_eq(ldns_rdf_size(ldns_rr_rdf(rr, 0)), 256);
    ck_assert_uint_eq(ldns_rdf_data(ldns_rr_rdf(rr, 0))[0], 255);
    ck_assert_uint_eq(ldns_rdf_size(ldns_rr_rdf(rr, 1)), 46);
    ldns_rr_list_deep_free(l);
    /* Binary bytes and an empty value survive. */
    ck_assert_int_eq(zone_add_txt(zs, "bin.test", "a\0b", 3), MC_OK);
    ck_assert_int_eq(zone_add_txt(zs, "empty.test", "", 0), MC_OK);
    expect_text(zs, "empty.test", LDNS_RR_TYPE_TXT, "empty.test.\t0\tIN\tTXT\t\"\"\n");
    expect_text(zs, "bin.test", LDNS_RR_TYPE_TXT, "bin.test.\t0\tIN\tTXT\t\"a\\000b\"\n");
    char *huge = calloc(1, ZONE_TXT_MAX + 1);
    ck_assert_int_eq(zone_add_txt(zs, "big.test", huge, ZONE_TXT_MAX + 1), MC_ERR_TOO_BIG);
    ck_assert_int_eq(zone_add_txt(zs, "big.test", huge, ZONE_TXT_MAX), MC_OK);
    free(huge);
    ck_assert_int_eq(zone_clear_txt(zs, "_acme-challenge.a.test"), MC_OK);
    ck_assert_uint_eq(collect_count(zs, "_acme-challenge.a.test", LDNS_RR_TYPE_TXT), 0);
    zone_store_free(zs);
}
END_TEST

START_TEST(test_cname_caa_ns_ttl)
{
    struct zone_store *zs = zone_store_new();
    zone_set_default_ttl(zs, 60);
    ck_assert_int_eq(zone_set_cname(zs, "www.test", "One.Test"), MC_OK);
    ck_assert_int_eq(zone_set_cname(zs, "www.test", "two.test."), MC_OK); /* replaces */
    expect_text(zs, "www.test", LDNS_RR_TYPE_CNAME, "www.test.\t60\tIN\tCNAME\ttwo.test.\n");
    ck_assert_int_eq(zone_set_cname(zs, "www.test", "bad..target"), MC_ERR_INVALID);
    ck_assert_int_eq(zone_clear_cname(zs, "www.test"), MC_OK);
    ck_assert_uint_eq(collect_count(zs, "www.test", LDNS_RR_TYPE_CNAME), 0);

    ck_assert_int_eq(zone_add_caa(zs, "ca.test", 0, "issue", "letsencrypt.org"), MC_OK);
    ck_assert_int_eq(zone_add_caa(zs, "ca.test", 128, "iodef", "mailto:a@b.test"), MC_OK);
    ck_assert_int_eq(zone_add_caa(zs, "ca.test", 0, "is-sue", "x"), MC_ERR_INVALID);
    ck_assert_int_eq(zone_add_caa(zs, "ca.test", 0, "", "x"), MC_ERR_INVALID);
    ck_assert_int_eq(zone_add_caa(zs, "ca.test", 0, "abcdefghijklmnop", "x"), MC_ERR_INVALID);
    expect_text(zs, "ca.test", LDNS_RR_TYPE_CAA,
                "ca.test.\t60\tIN\tCAA\t0 issue \"letsencrypt.org\"\n"
                "ca.test.\t60\tIN\tCAA\t128 iodef \"mailto:a@b.test\"\n");
    /* CAA is not inherited by the store: a child holds none. */
    ck_assert_uint_eq(collect_count(zs, "sub.ca.test", LDNS_RR_TYPE_CAA), 0);
    ck_assert_int_eq(zone_clear_caa(zs, "ca.test"), MC_OK);
    ck_assert_uint_eq(collect_count(zs, "ca.test", LDNS_RR_TYPE_CAA), 0);

    ck_assert_int_eq(zone_add_ns(zs, "del.test", "NS1.del.test"), MC_OK);
    expect_text(zs, "del.test", LDNS_RR_TYPE_NS, "del.test.\t60\tIN\tNS\tns1.del.test.\n");
    ck_assert_int_eq(zone_clear_ns(zs, "del.test"), MC_OK);
    ck_assert(!exists(zs, "del.test"));
    zone_store_free(zs);
}
END_TEST

START_TEST(test_zones_apex_exists)
{
    struct zone_store *zs = zone_store_new();
    char apex[ZONE_NAME_MAX];
    ck_assert_int_eq(zone_add_zone(zs, "Example.com", NULL, "ns1.example.com"), MC_OK);
    expect_text(zs, "example.com", LDNS_RR_TYPE_SOA,
                "example.com.\t0\tIN\tSOA\tns1.example.com. hostmaster.example.com. 1 3600 900 "
                "604800 0\n");
    struct zone_soa soa = {.mname = "a.ns.test",
                           .rname = "me.x.test",
                           .serial = 7,
                           .refresh = 1,
                           .retry = 2,
                           .expire = 3,
                           .minimum = 4};
    ck_assert_int_eq(zone_add_zone(zs, "sub.example.com", &soa, NULL), MC_OK);
    ck_assert_int_eq(zone_add_txt(zs, "a.b.c.example.com", "v", 1), MC_OK);

    zone_rdlock(zs);
    ck_assert(zone_find_apex_locked(zs, "a.b.c.example.com", apex, sizeof(apex)));
    ck_assert_str_eq(apex, "example.com.");
    ck_assert(zone_find_apex_locked(zs, "X.SUB.example.com", apex, sizeof(apex)));
    ck_assert_str_eq(apex, "sub.example.com.");
    ck_assert(zone_find_apex_locked(zs, "example.com", apex, sizeof(apex)));
    ck_assert_str_eq(apex, "example.com.");
    ck_assert(!zone_find_apex_locked(zs, "example.org", apex, sizeof(apex)));
    ck_assert(!zone_find_apex_locked(zs, "com", apex, sizeof(apex)));
    /* Empty non-terminals exist (RFC 8020); siblings do not. */
    ck_assert(zone_name_exists_locked(zs, "a.b.c.example.com"));
    ck_assert(zone_name_exists_locked(zs, "b.c.example.com"));
    ck_assert(zone_name_exists_locked(zs, "C.example.com."));
    ck_assert(!zone_name_exists_locked(zs, "d.example.com"));
    ck_assert(!zone_name_exists_locked(zs, "x.a.b.c.example.com"));
    zone_unlock(zs);

    ck_assert_int_eq(zone_remove_zone(zs, "sub.example.com"), MC_OK);
    ck_assert_int_eq(zone_remove_zone(zs, "sub.example.com"), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(zone_remove_zone(zs, "nothing.test"), MC_ERR_NOT_FOUND);
    ck_assert_uint_eq(collect_count(zs, "example.com", LDNS_RR_TYPE_NS), 1);
    ck_assert_int_eq(zone_remove_zone(zs, "example.com"), MC_OK);
    ck_assert(!exists(zs, "a.b.c.example.com"));
    ck_assert(!exists(zs, "b.c.example.com"));
    ck_assert(!exists(zs, "example.com"));
    zone_store_free(zs);
}
END_TEST

START_TEST(test_servfail_defaults_mode)
{
    struct zone_store *zs = zone_store_new();
    uint8_t a4[4], a6[16];
    ck_assert_int_eq(zone_set_servfail(zs, "bad.test"), MC_OK);
    zone_rdlock(zs);
    ck_assert(zone_is_servfail_locked(zs, "BAD.test."));
    ck_assert(!zone_is_servfail_locked(zs, "x.bad.test")); /* exact name only */
    ck_assert(!zone_default_a_locked(zs, a4));
    zone_unlock(zs);
    ck_assert_int_eq(zone_clear_servfail(zs, "bad.test"), MC_OK);
    zone_rdlock(zs);
    ck_assert(!zone_is_servfail_locked(zs, "bad.test"));
    zone_unlock(zs);

    ck_assert_int_eq(zone_set_default_ipv4(zs, "10.0.0.1"), MC_OK);
    ck_assert_int_eq(zone_set_default_ipv4(zs, "::1"), MC_ERR_INVALID);
    ck_assert_int_eq(zone_set_default_ipv6(zs, "::2"), MC_OK);
    ck_assert_int_eq(zone_set_default_ipv6(zs, "10.0.0.1"), MC_ERR_INVALID);
    zone_rdlock(zs);
    ck_assert(zone_default_a_locked(zs, a4));
    ck_assert_mem_eq(a4, "\x0a\x00\x00\x01", 4);
    ck_assert(zone_default_aaaa_locked(zs, a6));
    ck_assert_uint_eq(a6[15], 2);
    zone_unlock(zs);
    ck_assert_int_eq(zone_set_default_ipv4(zs, ""), MC_OK);
    zone_rdlock(zs);
    ck_assert(!zone_default_a_locked(zs, a4));
    zone_unlock(zs);

    ck_assert_int_eq(zone_get_mode(zs), ZONE_MODE_COMPAT);
    zone_set_mode(zs, ZONE_MODE_STRICT);
    ck_assert_int_eq(zone_get_mode(zs), ZONE_MODE_STRICT);
    zone_store_free(zs);
}
END_TEST

START_TEST(test_any_and_clear_all)
{
    struct zone_store *zs = zone_store_new();
    ck_assert_int_eq(zone_set_default_ipv4(zs, "10.0.0.1"), MC_OK);
    zone_set_mode(zs, ZONE_MODE_STRICT);
    ck_assert_int_eq(zone_add_zone(zs, "z.test", NULL, "ns.z.test"), MC_OK);
    ck_assert_int_eq(zone_add_a(zs, "z.test", "192.0.2.9"), MC_OK);
    ck_assert_int_eq(zone_add_txt(zs, "z.test", "t", 1), MC_OK);
    ck_assert_int_eq(zone_add_caa(zs, "z.test", 0, "issue", "ca.test"), MC_OK);
    /* A, TXT, CAA, NS, SOA */
    ck_assert_uint_eq(collect_count(zs, "z.test", LDNS_RR_TYPE_ANY), 5);
    ck_assert_int_eq(zone_set_servfail(zs, "s.test"), MC_OK);
    zone_clear_all(zs);
    ck_assert_uint_eq(collect_count(zs, "z.test", LDNS_RR_TYPE_ANY), 0);
    ck_assert(!exists(zs, "z.test"));
    zone_rdlock(zs);
    ck_assert(!zone_is_servfail_locked(zs, "s.test"));
    uint8_t a4[4];
    ck_assert(zone_default_a_locked(zs, a4)); /* defaults and mode stay */
    ck_assert_int_eq(zone_get_mode_locked(zs), ZONE_MODE_STRICT);
    zone_unlock(zs);
    /* The store works after a clear. */
    ck_assert_int_eq(zone_add_a(zs, "z.test", "192.0.2.9"), MC_OK);
    ck_assert_uint_eq(collect_count(zs, "z.test", LDNS_RR_TYPE_A), 1);
    zone_store_free(zs);
}
END_TEST

START_TEST(test_bounds)
{
    struct zone_store *zs = zone_store_new();
    char ip[32];
    for (int i = 0; i < ZONE_MAX_PER_RRSET; i++) {
        snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 256, i % 256);
        ck_assert_int_eq(zone_add_a(zs, "many.test", ip), MC_OK);
    }
    ck_assert_int_eq(zone_add_a(zs, "many.test", "10.9.9.9"), MC_ERR_LIMIT);
    ck_assert_int_eq(zone_add_a(zs, "many.test", "10.0.0.0"), MC_OK); /* a duplicate */
    zone_clear_all(zs);

    char name[64];
    for (int i = 0; i < ZONE_MAX_NAMES; i++) {
        snprintf(name, sizeof(name), "n%d.test", i);
        ck_assert_int_eq(zone_add_txt(zs, name, "v", 1), MC_OK);
    }
    ck_assert_int_eq(zone_add_txt(zs, "one-more.test", "v", 1), MC_ERR_LIMIT);
    ck_assert_int_eq(zone_set_servfail(zs, "one-more.test"), MC_ERR_LIMIT);
    ck_assert(!exists(zs, "one-more.test"));
    /* A name that already holds something still takes more. */
    ck_assert_int_eq(zone_add_txt(zs, "n5.test", "w", 1), MC_OK);
    ck_assert_int_eq(zone_clear_txt(zs, "n0.test"), MC_OK);
    ck_assert_int_eq(zone_add_txt(zs, "one-more.test", "v", 1), MC_OK);
    zone_store_free(zs);
}
END_TEST

/* ---- RFC 2136 entry points --------------------------------------------------------- */

static ldns_rr *rr_from(const char *text)
{
    ldns_rr *rr = NULL;
    ck_assert_int_eq(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL), LDNS_STATUS_OK);
    return rr;
}

START_TEST(test_rr_level)
{
    struct zone_store *zs = zone_store_new();
    const char *adds[] = {
        "u.test. 300 IN A 192.0.2.5",     "u.test. 300 IN AAAA 2001:db8::5",
        "u.test. 300 IN TXT \"hello\"",   "u.test. 300 IN CAA 0 issue \"ca.test\"",
        "c.u.test. 300 IN CNAME u.test.", "u.test. 300 IN SOA ns.u.test. h.u.test. 5 1 2 3 4",
        "u.test. 300 IN NS ns.u.test.",
    };
    zone_wrlock(zs);
    for (size_t i = 0; i < sizeof(adds) / sizeof(adds[0]); i++) {
        ldns_rr *rr = rr_from(adds[i]);
        ck_assert_msg(zone_add_rr_locked(zs, rr) == MC_OK, "%s", adds[i]);
        ldns_rr_free(rr);
    }
    ldns_rr *mx = rr_from("u.test. 300 IN MX 10 mail.u.test.");
    ck_assert_int_eq(zone_add_rr_locked(zs, mx), MC_ERR_UNSUPPORTED);
    ldns_rr_free(mx);
    /* Same RR again with another TTL: replaced, not duplicated. */
    ldns_rr *again = rr_from("u.test. 60 IN A 192.0.2.5");
    ck_assert_int_eq(zone_add_rr_locked(zs, again), MC_OK);
    ldns_rr_free(again);
    zone_unlock(zs);
    expect_text(zs, "u.test", LDNS_RR_TYPE_A, "u.test.\t60\tIN\tA\t192.0.2.5\n");
    ck_assert_uint_eq(collect_count(zs, "u.test", LDNS_RR_TYPE_ANY), 6);

    zone_wrlock(zs);
    ldns_rr *del = rr_from("u.test. 0 IN TXT \"hello\"");
    ck_assert_int_eq(zone_del_rr_locked(zs, del), MC_OK);
    ldns_rr_free(del);
    del = rr_from("u.test. 0 IN TXT \"absent\"");
    ck_assert_int_eq(zone_del_rr_locked(zs, del), MC_OK);
    ldns_rr_free(del);
    ck_assert_int_eq(zone_del_rrset_locked(zs, "u.test", LDNS_RR_TYPE_AAAA), MC_OK);
    /* ANY at the apex keeps SOA and NS. */
    ck_assert_int_eq(zone_del_rrset_locked(zs, "u.test", LDNS_RR_TYPE_ANY), MC_OK);
    ck_assert_int_eq(zone_del_rrset_locked(zs, "c.u.test", LDNS_RR_TYPE_ANY), MC_OK);
    zone_unlock(zs);
    ck_assert_uint_eq(collect_count(zs, "u.test", LDNS_RR_TYPE_TXT), 0);
    ck_assert_uint_eq(collect_count(zs, "u.test", LDNS_RR_TYPE_ANY), 2);
    ck_assert(!exists(zs, "c.u.test"));
    zone_store_free(zs);
}
END_TEST

/* ---- concurrency ------------------------------------------------------------------- */

#define CONC_ITERS 3000

static void *conc_writer(void *arg)
{
    struct zone_store *zs = arg;
    char name[64];
    for (int i = 0; i < CONC_ITERS; i++) {
        snprintf(name, sizeof(name), "w%d.deep.conc.test", i % 50);
        /* Each name's TXT set is always "a" then "b" together: readers check that. */
        zone_wrlock(zs);
        ldns_rr *a = NULL, *b = NULL;
        char text[128];
        snprintf(text, sizeof(text), "%s 0 IN TXT \"a\"", name);
        ldns_rr_new_frm_str(&a, text, 0, NULL, NULL);
        snprintf(text, sizeof(text), "%s 0 IN TXT \"b\"", name);
        ldns_rr_new_frm_str(&b, text, 0, NULL, NULL);
        enum mc_err e1 = zone_add_rr_locked(zs, a);
        enum mc_err e2 = zone_add_rr_locked(zs, b);
        zone_unlock(zs);
        ldns_rr_free(a);
        ldns_rr_free(b);
        if (e1 != MC_OK || e2 != MC_OK)
            return (void *)1;
        if (zone_clear_txt(zs, name) != MC_OK)
            return (void *)1;
    }
    return NULL;
}

static void *conc_reader(void *arg)
{
    struct zone_store *zs = arg;
    char name[64];
    for (int i = 0; i < CONC_ITERS; i++) {
        snprintf(name, sizeof(name), "w%d.deep.conc.test", i % 50);
        ldns_rr_list *l = ldns_rr_list_new();
        zone_rdlock(zs);
        enum mc_err e = zone_collect_locked(zs, name, LDNS_RR_TYPE_TXT, l);
        size_t n = ldns_rr_list_rr_count(l);
        /* The ancestor exists exactly when some name below holds records. */
        bool anc = zone_name_exists_locked(zs, "deep.conc.test");
        bool fixed = zone_name_exists_locked(zs, "fixed.conc.test");
        zone_unlock(zs);
        ldns_rr_list_deep_free(l);
        if (e != MC_OK || (n != 0 && n != 2) || (n == 2 && !anc) || !fixed)
            return (void *)1;
    }
    return NULL;
}

START_TEST(test_concurrent)
{
    struct zone_store *zs = zone_store_new();
    ck_assert_int_eq(zone_add_a(zs, "fixed.conc.test", "192.0.2.1"), MC_OK);
    pthread_t th[4];
    ck_assert_int_eq(pthread_create(&th[0], NULL, conc_writer, zs), 0);
    ck_assert_int_eq(pthread_create(&th[1], NULL, conc_writer, zs), 0);
    ck_assert_int_eq(pthread_create(&th[2], NULL, conc_reader, zs), 0);
    ck_assert_int_eq(pthread_create(&th[3], NULL, conc_reader, zs), 0);
    for (int i = 0; i < 4; i++) {
        void *r = NULL;
        pthread_join(th[i], &r);
        ck_assert_msg(r == NULL, "thread %d saw an inconsistency", i);
    }
    /* Every writer cleared what it added: only the fixed name and its ancestors remain. */
    ck_assert(!exists(zs, "deep.conc.test"));
    ck_assert(exists(zs, "conc.test"));
    ck_assert_uint_eq(collect_count(zs, "fixed.conc.test", LDNS_RR_TYPE_A), 1);
    zone_store_free(zs);
}
END_TEST

static Suite *zone_suite(void)
{
    Suite *s = suite_create("zone");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_normalize, 0, (int)(sizeof(norm_rows) / sizeof(norm_rows[0])));
    tcase_add_test(tc, test_normalize_long);
    tcase_add_test(tc, test_a_aaaa);
    tcase_add_test(tc, test_txt);
    tcase_add_test(tc, test_cname_caa_ns_ttl);
    tcase_add_test(tc, test_zones_apex_exists);
    tcase_add_test(tc, test_servfail_defaults_mode);
    tcase_add_test(tc, test_any_and_clear_all);
    tcase_add_test(tc, test_bounds);
    tcase_add_test(tc, test_rr_level);
    tcase_add_test(tc, test_concurrent);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(zone_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
