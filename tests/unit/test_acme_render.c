/* Unit tests of mockca/acme/render.c: each ACME resource, in each state that changes its
 * shape, has exactly the members RFC 8555 (and Pebble, where the RFC leaves a choice)
 * gives it, with the values a client reads; every time parses back to the instant it was
 * made from; every document prints and parses back through json_parse unchanged. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "common/jose.h"
#include "common/json.h"
#include "common/keys.h"
#include "mockca/acme/render.h"

#define BASE "https://127.0.0.1:14000"

/* 2026-11-24T03:24:15.123Z */
#define T_MS INT64_C(1795490655123)
#define T_TEXT "2026-11-24T03:24:15.123Z"

/* ---- helpers ----------------------------------------------------------------------------- */

/* The object's member names are exactly the NULL-terminated list: a missing or an extra
 * member fails, and so does a name given twice. */
static void assert_keys_v(const cJSON *obj, const char *what, ...)
{
    va_list ap;
    int want = 0, have = cJSON_GetArraySize(obj);
    const char *name;

    ck_assert_msg(cJSON_IsObject(obj), "%s: not an object", what);
    va_start(ap, what);
    while ((name = va_arg(ap, const char *)) != NULL) {
        want++;
        ck_assert_msg(cJSON_GetObjectItemCaseSensitive(obj, name) != NULL,
                      "%s: member \"%s\" missing", what, name);
    }
    va_end(ap);
    if (have != want) {
        char *text = cJSON_PrintUnformatted(obj);
        ck_abort_msg("%s: %d members, want %d: %s", what, have, want, text ? text : "?");
    }
}
#define ASSERT_KEYS(obj, ...) assert_keys_v((obj), #obj, __VA_ARGS__, (const char *)NULL)

static const char *str_of(const cJSON *obj, const char *name)
{
    const char *s = NULL;
    ck_assert_msg(json_get_string(obj, name, &s) == MC_OK, "member %s is not a string", name);
    return s;
}

static void assert_str(const cJSON *obj, const char *name, const char *want)
{
    ck_assert_str_eq(str_of(obj, name), want);
}

static void assert_true(const cJSON *obj, const char *name)
{
    bool b = false;
    ck_assert_int_eq(json_get_bool(obj, name, &b), MC_OK);
    ck_assert(b);
}

/* Parses "YYYY-MM-DDTHH:MM:SS.mmmZ" strictly (the form Go's time.RFC3339 layout reads,
 * fractional seconds included) back into milliseconds. */
static int64_t parse_rfc3339_ms(const char *s)
{
    struct tm tm;
    const char *rest;
    char *end = NULL;
    long ms;

    ck_assert_msg(strlen(s) == 24, "time %s: wrong length", s);
    memset(&tm, 0, sizeof(tm));
    rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    ck_assert_msg(rest != NULL && rest[0] == '.', "time %s does not parse", s);
    ms = strtol(rest + 1, &end, 10);
    ck_assert_msg(end == rest + 4 && end[0] == 'Z' && end[1] == '\0', "time %s: bad tail", s);
    return (int64_t)timegm(&tm) * 1000 + ms;
}

static void assert_time(const cJSON *obj, const char *name, int64_t want_ms)
{
    ck_assert_int_eq(parse_rfc3339_ms(str_of(obj, name)), want_ms);
}

/* Prints j, parses it back with our strict parser (duplicate members, bad escapes and
 * trailing bytes are refused there) and checks nothing changed on the way. */
static void assert_round_trip(const cJSON *j)
{
    char *text = NULL;
    cJSON *back = NULL;

    ck_assert_int_eq(json_print(j, &text), MC_OK);
    ck_assert_int_eq(
        json_parse(text, strlen(text), JSON_DEFAULT_MAX_LEN, JSON_DEFAULT_MAX_DEPTH, &back), MC_OK);
    ck_assert_msg(cJSON_Compare(j, back, true), "changed in a round trip: %s", text);
    cJSON_Delete(back);
    free(text);
}

static void assert_ident(const cJSON *id, const char *type, const char *value)
{
    ASSERT_KEYS(id, "type", "value");
    assert_str(id, "type", type);
    assert_str(id, "value", value);
}

static void assert_problem(const cJSON *p, const char *urn, const char *detail, int status)
{
    int64_t st = 0;
    ASSERT_KEYS(p, "type", "detail", "status");
    assert_str(p, "type", urn);
    assert_str(p, "detail", detail);
    ck_assert_int_eq(json_get_int(p, "status", 100, 599, &st), MC_OK);
    ck_assert_int_eq(st, status);
}

/* ---- render_url -------------------------------------------------------------------------- */

START_TEST(test_url)
{
    char *u = (char *)"untouched";

    ck_assert_int_eq(render_url(BASE, ACME_PATH_ORDERS, "acct1", &u), MC_OK);
    ck_assert_str_eq(u, BASE "/list-orderz/acct1");
    free(u);
    ck_assert_int_eq(render_url(BASE, ACME_PATH_DIRECTORY, NULL, &u), MC_OK);
    ck_assert_str_eq(u, BASE "/dir");
    free(u);
    ck_assert_int_eq(render_url(BASE, ACME_PATH_CERT, "", &u), MC_OK);
    ck_assert_str_eq(u, BASE "/certZ/");
    free(u);
    /* An ARI certificate id carries a '.', and base64url '-' and '_': all kept as is. */
    ck_assert_int_eq(render_url(BASE, ACME_PATH_RENEWAL_INFO, "aYhba4dGQEH_-3hl.AIdlQyE", &u),
                     MC_OK);
    ck_assert_str_eq(u, BASE "/renewal-info/aYhba4dGQEH_-3hl.AIdlQyE");
    free(u);

    /* Refusals leave *out NULL. */
    u = (char *)"untouched";
    ck_assert_int_eq(render_url(BASE "/", ACME_PATH_DIRECTORY, NULL, &u), MC_ERR_INVALID);
    ck_assert_ptr_null(u);
    ck_assert_int_eq(render_url(BASE, ACME_PATH_AUTHZ, "a/b", &u), MC_ERR_INVALID);
    ck_assert_ptr_null(u);
    ck_assert_int_eq(render_url(BASE, ACME_PATH_AUTHZ, "/", &u), MC_ERR_INVALID);
    ck_assert_int_eq(render_url(BASE, ACME_PATH_AUTHZ, "a?cursor=2", &u), MC_ERR_INVALID);
    ck_assert_int_eq(render_url(BASE, ACME_PATH_AUTHZ, "?", &u), MC_ERR_INVALID);
    ck_assert_int_eq(render_url(BASE, ACME_PATH_AUTHZ, "a#b", &u), MC_ERR_INVALID);
    ck_assert_int_eq(render_url(BASE, ACME_PATH_AUTHZ, "a b", &u), MC_ERR_INVALID);
    ck_assert_int_eq(render_url(BASE, ACME_PATH_AUTHZ, "a\nb", &u), MC_ERR_INVALID);
    ck_assert_int_eq(render_url("", ACME_PATH_AUTHZ, "a", &u), MC_ERR_INVALID);
    ck_assert_int_eq(render_url("/", ACME_PATH_AUTHZ, "a", &u), MC_ERR_INVALID);
    ck_assert_int_eq(render_url(NULL, ACME_PATH_AUTHZ, "a", &u), MC_ERR_INVALID);
    ck_assert_int_eq(render_url(BASE, NULL, "a", &u), MC_ERR_INVALID);
    ck_assert_int_eq(render_url(BASE, "authZ/", "a", &u), MC_ERR_INVALID);
    ck_assert_ptr_null(u);
    ck_assert_int_eq(render_url(BASE, ACME_PATH_AUTHZ, "a", NULL), MC_ERR_INVALID);

    /* Caps: an absurd base or id is refused, not copied. */
    char big[4096];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(render_url(big, ACME_PATH_AUTHZ, "a", &u), MC_ERR_TOO_BIG);
    ck_assert_int_eq(render_url(BASE, ACME_PATH_AUTHZ, big, &u), MC_ERR_INVALID);
    ck_assert_ptr_null(u);
}
END_TEST

/* ---- directory --------------------------------------------------------------------------- */

static void assert_dir_urls(const cJSON *d)
{
    assert_str(d, "newNonce", BASE "/nonce-plz");
    assert_str(d, "newAccount", BASE "/sign-me-up");
    assert_str(d, "newOrder", BASE "/order-plz");
    assert_str(d, "newAuthz", BASE "/new-authz");
    assert_str(d, "revokeCert", BASE "/revoke-cert");
    assert_str(d, "keyChange", BASE "/rollover-account-key");
    /* RFC 9773 section 4.1: the client appends "/" + id, so no trailing slash here. */
    assert_str(d, "renewalInfo", BASE "/renewal-info");
}

#define DIR_KEYS                                                                                   \
    "newNonce", "newAccount", "newOrder", "newAuthz", "revokeCert", "keyChange", "renewalInfo",    \
        "meta"

START_TEST(test_directory_bare)
{
    cJSON *d = NULL;
    const cJSON *meta = NULL;
    bool eab = true;
    struct acme_dir_meta none = {0};

    /* NULL meta and an empty one are the same: only externalAccountRequired, false. */
    for (int pass = 0; pass < 2; pass++) {
        ck_assert_int_eq(render_directory(BASE, pass == 0 ? NULL : &none, &d), MC_OK);
        ASSERT_KEYS(d, DIR_KEYS);
        assert_dir_urls(d);
        ck_assert_int_eq(json_get_object(d, "meta", &meta), MC_OK);
        ASSERT_KEYS(meta, "externalAccountRequired");
        ck_assert_int_eq(json_get_bool(meta, "externalAccountRequired", &eab), MC_OK);
        ck_assert(!eab);
        assert_round_trip(d);
        cJSON_Delete(d);
        d = NULL;
    }
}
END_TEST

START_TEST(test_directory_meta_members)
{
    static const char *const caa[] = {"mockca.test", "example.org"};
    struct mockca_profile profiles[] = {
        {.name = (char *)"default", .description = (char *)"The profile you know and love"},
        {.name = (char *)"shortlived", .description = NULL},
    };
    cJSON *d = NULL;
    const cJSON *meta = NULL, *arr = NULL, *prof = NULL;
    bool eab = false;

    /* Each member alone, then all together. */
    for (int pass = 0; pass < 5; pass++) {
        struct acme_dir_meta m = {0};
        if (pass == 0 || pass == 4)
            m.terms_of_service = "data:text/plain,Do%20what%20thou%20wilt";
        if (pass == 1 || pass == 4)
            m.website = "https://mockca.test/";
        if (pass == 2 || pass == 4) {
            m.caa_identities = caa;
            m.n_caa_identities = 2;
        }
        if (pass == 3 || pass == 4) {
            m.profiles = profiles;
            m.n_profiles = 2;
        }
        m.eab_required = pass == 4;
        ck_assert_int_eq(render_directory(BASE, &m, &d), MC_OK);
        ASSERT_KEYS(d, DIR_KEYS);
        assert_dir_urls(d);
        ck_assert_int_eq(json_get_object(d, "meta", &meta), MC_OK);
        switch (pass) {
        case 0:
            ASSERT_KEYS(meta, "termsOfService", "externalAccountRequired");
            break;
        case 1:
            ASSERT_KEYS(meta, "website", "externalAccountRequired");
            break;
        case 2:
            ASSERT_KEYS(meta, "caaIdentities", "externalAccountRequired");
            break;
        case 3:
            ASSERT_KEYS(meta, "profiles", "externalAccountRequired");
            break;
        default:
            ASSERT_KEYS(meta, "termsOfService", "website", "caaIdentities", "profiles",
                        "externalAccountRequired");
        }
        ck_assert_int_eq(json_get_bool(meta, "externalAccountRequired", &eab), MC_OK);
        ck_assert_int_eq(eab, pass == 4);
        if (m.terms_of_service != NULL)
            assert_str(meta, "termsOfService", "data:text/plain,Do%20what%20thou%20wilt");
        if (m.website != NULL)
            assert_str(meta, "website", "https://mockca.test/");
        if (m.n_caa_identities > 0) {
            ck_assert_int_eq(json_get_array(meta, "caaIdentities", &arr), MC_OK);
            ck_assert_int_eq(cJSON_GetArraySize(arr), 2);
            ck_assert_str_eq(cJSON_GetArrayItem(arr, 0)->valuestring, "mockca.test");
            ck_assert_str_eq(cJSON_GetArrayItem(arr, 1)->valuestring, "example.org");
        }
        if (m.n_profiles > 0) {
            /* An object {name: description}, as the profiles draft and Pebble have it. */
            ck_assert_int_eq(json_get_object(meta, "profiles", &prof), MC_OK);
            ASSERT_KEYS(prof, "default", "shortlived");
            assert_str(prof, "default", "The profile you know and love");
            assert_str(prof, "shortlived", "");
        }
        assert_round_trip(d);
        cJSON_Delete(d);
        d = NULL;
    }
}
END_TEST

START_TEST(test_directory_refusals)
{
    static const char *const caa_bad[] = {"ok.test", NULL};
    struct mockca_profile dup[] = {
        {.name = (char *)"default", .description = (char *)"a"},
        {.name = (char *)"default", .description = (char *)"b"},
    };
    struct acme_dir_meta m = {0};
    cJSON *d = (cJSON *)1;

    ck_assert_int_eq(render_directory(BASE "/", NULL, &d), MC_ERR_INVALID);
    ck_assert_ptr_null(d);
    /* Two profiles of one name would print an object with a duplicate member. */
    m.profiles = dup;
    m.n_profiles = 2;
    ck_assert_int_eq(render_directory(BASE, &m, &d), MC_ERR_INVALID);
    ck_assert_ptr_null(d);
    m.n_profiles = 0;
    m.caa_identities = caa_bad;
    m.n_caa_identities = 2;
    ck_assert_int_eq(render_directory(BASE, &m, &d), MC_ERR_INVALID);
    m.caa_identities = NULL;
    ck_assert_int_eq(render_directory(BASE, &m, &d), MC_ERR_INVALID);
    ck_assert_ptr_null(d);
}
END_TEST

/* ---- account ----------------------------------------------------------------------------- */

START_TEST(test_account)
{
    EVP_PKEY *key = NULL;
    cJSON *a = NULL, *jwk = NULL;
    const cJSON *arr = NULL, *k = NULL;
    struct account_snap s;

    ck_assert_int_eq(key_generate(KEY_EC_P256, &key), MC_OK);
    ck_assert_int_eq(jwk_to_json(key, &jwk), MC_OK);
    memset(&s, 0, sizeof(s));
    memcpy(s.id, "AAAAAAAAAAAAAAAAAAAAAA", STORE_ID_LEN + 1);
    s.status = ACCT_VALID;
    s.key = key;
    s.contacts[0] = (char *)"mailto:admin@example.org";
    s.contacts[1] = (char *)"mailto:\"odd\\name\"@example.org"; /* escaped on the way out */
    s.n_contacts = 2;
    s.tos_agreed = true;
    s.created_ms = T_MS;

    ck_assert_int_eq(render_account(BASE, &s, &a), MC_OK);
    ASSERT_KEYS(a, "status", "contact", "termsOfServiceAgreed", "orders", "key");
    assert_str(a, "status", "valid");
    ck_assert_int_eq(json_get_array(a, "contact", &arr), MC_OK);
    ck_assert_int_eq(cJSON_GetArraySize(arr), 2);
    ck_assert_str_eq(cJSON_GetArrayItem(arr, 0)->valuestring, "mailto:admin@example.org");
    ck_assert_str_eq(cJSON_GetArrayItem(arr, 1)->valuestring, "mailto:\"odd\\name\"@example.org");
    assert_true(a, "termsOfServiceAgreed");
    assert_str(a, "orders", BASE "/list-orderz/AAAAAAAAAAAAAAAAAAAAAA");
    ck_assert_int_eq(json_get_object(a, "key", &k), MC_OK);
    ck_assert(cJSON_Compare(k, jwk, true));
    assert_round_trip(a);
    cJSON_Delete(a);
    a = NULL;

    /* No contacts and no agreement: both members left out, not sent empty or false. */
    s.n_contacts = 0;
    s.tos_agreed = false;
    s.status = ACCT_DEACTIVATED;
    ck_assert_int_eq(render_account(BASE, &s, &a), MC_OK);
    ASSERT_KEYS(a, "status", "orders", "key");
    assert_str(a, "status", "deactivated");
    assert_round_trip(a);
    cJSON_Delete(a);
    a = NULL;

    s.status = ACCT_REVOKED;
    ck_assert_int_eq(render_account(BASE, &s, &a), MC_OK);
    assert_str(a, "status", "revoked");
    cJSON_Delete(a);
    a = (cJSON *)1;

    /* A status the store never sets, or no key, is refused rather than printed. */
    s.status = (enum acct_status)0;
    ck_assert_int_eq(render_account(BASE, &s, &a), MC_ERR_INVALID);
    ck_assert_ptr_null(a);
    s.status = ACCT_VALID;
    s.key = NULL;
    ck_assert_int_eq(render_account(BASE, &s, &a), MC_ERR_INVALID);

    cJSON_Delete(jwk);
    EVP_PKEY_free(key);
}
END_TEST

/* ---- order ------------------------------------------------------------------------------- */

static struct ident order_idents[] = {
    {IDENT_DNS, (char *)"example.org"},
    {IDENT_DNS, (char *)"*.example.org"},
    {IDENT_IP, (char *)"2001:db8::1"},
};
static char order_authz_ids[3][STORE_ID_LEN + 1] = {
    "authz000000000000000A1", "authz000000000000000A2", "authz000000000000000A3"};

static void order_init(struct order_snap *o, enum order_status st)
{
    memset(o, 0, sizeof(*o));
    memcpy(o->id, "order00000000000000001", STORE_ID_LEN + 1);
    memcpy(o->account_id, "AAAAAAAAAAAAAAAAAAAAAA", STORE_ID_LEN + 1);
    o->status = st;
    o->idents.v = order_idents;
    o->idents.n = 3;
    o->authz_ids = order_authz_ids;
    o->n_authz = 3;
    o->expires_ms = T_MS;
    o->created_ms = T_MS - 1000;
}

static void assert_order_common(const cJSON *j, const char *status)
{
    const cJSON *arr = NULL;

    assert_str(j, "status", status);
    assert_time(j, "expires", T_MS);
    assert_str(j, "expires", T_TEXT);
    ck_assert_int_eq(json_get_array(j, "identifiers", &arr), MC_OK);
    ck_assert_int_eq(cJSON_GetArraySize(arr), 3);
    /* As requested: the wildcard keeps its "*." in the order. */
    assert_ident(cJSON_GetArrayItem(arr, 0), "dns", "example.org");
    assert_ident(cJSON_GetArrayItem(arr, 1), "dns", "*.example.org");
    assert_ident(cJSON_GetArrayItem(arr, 2), "ip", "2001:db8::1");
    ck_assert_int_eq(json_get_array(j, "authorizations", &arr), MC_OK);
    ck_assert_int_eq(cJSON_GetArraySize(arr), 3);
    ck_assert_str_eq(cJSON_GetArrayItem(arr, 0)->valuestring, BASE "/authZ/authz000000000000000A1");
    ck_assert_str_eq(cJSON_GetArrayItem(arr, 2)->valuestring, BASE "/authZ/authz000000000000000A3");
    assert_str(j, "finalize", BASE "/finalize-order/order00000000000000001");
}

START_TEST(test_order_pending_and_ready)
{
    struct order_snap o;
    cJSON *j = NULL;

    order_init(&o, ORDER_PENDING);
    ck_assert_int_eq(render_order(BASE, &o, &j), MC_OK);
    ASSERT_KEYS(j, "status", "expires", "identifiers", "authorizations", "finalize");
    assert_order_common(j, "pending");
    assert_round_trip(j);
    cJSON_Delete(j);

    /* notBefore/notAfter (Unix seconds in the store), profile and replaces when set. */
    o.not_before = 1795490000;
    o.not_after = 1795490000 + 7 * 86400;
    o.profile = (char *)"shortlived";
    o.replaces = (char *)"aYhba4dGQEH_-3hl.AIdlQyE";
    o.status = ORDER_READY;
    ck_assert_int_eq(render_order(BASE, &o, &j), MC_OK);
    ASSERT_KEYS(j, "status", "expires", "identifiers", "authorizations", "finalize", "notBefore",
                "notAfter", "profile", "replaces");
    assert_order_common(j, "ready");
    assert_time(j, "notBefore", INT64_C(1795490000) * 1000);
    assert_str(j, "notBefore", "2026-11-24T03:13:20.000Z");
    assert_time(j, "notAfter", ((int64_t)1795490000 + 7 * 86400) * 1000);
    assert_str(j, "profile", "shortlived");
    assert_str(j, "replaces", "aYhba4dGQEH_-3hl.AIdlQyE");
    assert_round_trip(j);
    cJSON_Delete(j);

    /* Only one of the two. */
    o.not_before = 0;
    o.profile = NULL;
    o.replaces = NULL;
    o.status = ORDER_PROCESSING;
    ck_assert_int_eq(render_order(BASE, &o, &j), MC_OK);
    ASSERT_KEYS(j, "status", "expires", "identifiers", "authorizations", "finalize", "notAfter");
    assert_order_common(j, "processing");
    cJSON_Delete(j);

    /* A serial or an error left over in a non-final state is not shown. */
    o.status = ORDER_PENDING;
    o.cert_serial = (char *)"0a1b2c";
    acme_error_set(&o.error, ACME_P_UNAUTHORIZED, 0, "leftover");
    ck_assert_int_eq(render_order(BASE, &o, &j), MC_OK);
    ASSERT_KEYS(j, "status", "expires", "identifiers", "authorizations", "finalize", "notAfter");
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_order_valid)
{
    struct order_snap o;
    cJSON *j = NULL;

    order_init(&o, ORDER_VALID);
    o.cert_serial = (char *)"4f2a0b9c33d1e5";
    ck_assert_int_eq(render_order(BASE, &o, &j), MC_OK);
    ASSERT_KEYS(j, "status", "expires", "identifiers", "authorizations", "finalize", "certificate");
    assert_order_common(j, "valid");
    assert_str(j, "certificate", BASE "/certZ/4f2a0b9c33d1e5");
    assert_round_trip(j);
    cJSON_Delete(j);

    /* With notBefore/notAfter and the profile too. */
    o.not_before = 1795490000;
    o.not_after = 1795490000 + 86400;
    o.profile = (char *)"default";
    ck_assert_int_eq(render_order(BASE, &o, &j), MC_OK);
    ASSERT_KEYS(j, "status", "expires", "identifiers", "authorizations", "finalize", "certificate",
                "notBefore", "notAfter", "profile");
    assert_round_trip(j);
    cJSON_Delete(j);

    /* Valid without a serial (cannot happen through the store) has no certificate URL
     * rather than an empty one. */
    o.cert_serial = NULL;
    ck_assert_int_eq(render_order(BASE, &o, &j), MC_OK);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(j, "certificate"));
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_order_invalid)
{
    struct order_snap o;
    cJSON *j = NULL;
    const cJSON *err = NULL;

    order_init(&o, ORDER_INVALID);
    acme_error_set(&o.error, ACME_P_UNAUTHORIZED, 0, "authorization for %s failed", "example.org");
    ck_assert_int_eq(render_order(BASE, &o, &j), MC_OK);
    ASSERT_KEYS(j, "status", "expires", "identifiers", "authorizations", "finalize", "error");
    assert_order_common(j, "invalid");
    ck_assert_int_eq(json_get_object(j, "error", &err), MC_OK);
    assert_problem(err, "urn:ietf:params:acme:error:unauthorized",
                   "authorization for example.org failed", 403);
    assert_round_trip(j);
    cJSON_Delete(j);

    /* Invalid because it expired: no error type recorded, no "error" member. */
    memset(&o.error, 0, sizeof(o.error));
    ck_assert_int_eq(render_order(BASE, &o, &j), MC_OK);
    ASSERT_KEYS(j, "status", "expires", "identifiers", "authorizations", "finalize");
    cJSON_Delete(j);

    /* A certificate serial never shows on an invalid order. */
    o.cert_serial = (char *)"01";
    ck_assert_int_eq(render_order(BASE, &o, &j), MC_OK);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(j, "certificate"));
    cJSON_Delete(j);
    j = (cJSON *)1;

    o.status = (enum order_status)99;
    ck_assert_int_eq(render_order(BASE, &o, &j), MC_ERR_INVALID);
    ck_assert_ptr_null(j);
    o.status = ORDER_INVALID;
    order_idents[0].type = (enum ident_type)7;
    ck_assert_int_eq(render_order(BASE, &o, &j), MC_ERR_INVALID);
    order_idents[0].type = IDENT_DNS;
    ck_assert_ptr_null(j);
}
END_TEST

/* ---- challenge and authorization --------------------------------------------------------- */

static void chall_init(struct challenge_snap *c, const char *id, enum chall_type t,
                       enum chall_status st)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->id, sizeof(c->id), "%s", id);
    memcpy(c->authz_id, "authz000000000000000A1", STORE_ID_LEN + 1);
    c->type = t;
    c->status = st;
    snprintf(c->token, sizeof(c->token), "%s", "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0");
}

START_TEST(test_challenge)
{
    static const struct {
        enum chall_type t;
        const char *name;
    } types[] = {{CHALL_HTTP01, "http-01"},
                 {CHALL_DNS01, "dns-01"},
                 {CHALL_TLSALPN01, "tls-alpn-01"},
                 {CHALL_DNSACCOUNT01, "dns-account-01"}};
    struct challenge_snap c;
    cJSON *j = NULL;
    const cJSON *err = NULL;

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        chall_init(&c, "chall00000000000000001", types[i].t, CHALL_PENDING);
        ck_assert_int_eq(render_challenge(BASE, &c, &j), MC_OK);
        ASSERT_KEYS(j, "type", "url", "status", "token");
        assert_str(j, "type", types[i].name);
        assert_str(j, "url", BASE "/chalZ/chall00000000000000001");
        assert_str(j, "status", "pending");
        assert_str(j, "token", "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0");
        assert_round_trip(j);
        cJSON_Delete(j);
    }

    chall_init(&c, "chall00000000000000001", CHALL_HTTP01, CHALL_PROCESSING);
    c.validated_ms = T_MS; /* not valid yet: not shown */
    ck_assert_int_eq(render_challenge(BASE, &c, &j), MC_OK);
    ASSERT_KEYS(j, "type", "url", "status", "token");
    assert_str(j, "status", "processing");
    cJSON_Delete(j);

    c.status = CHALL_VALID;
    ck_assert_int_eq(render_challenge(BASE, &c, &j), MC_OK);
    ASSERT_KEYS(j, "type", "url", "status", "token", "validated");
    assert_str(j, "status", "valid");
    assert_time(j, "validated", T_MS);
    assert_round_trip(j);
    cJSON_Delete(j);

    c.status = CHALL_INVALID;
    acme_error_set(&c.error, ACME_P_INCORRECT_RESPONSE, 0, "key authorization \"%s\" wrong", "x.y");
    ck_assert_int_eq(render_challenge(BASE, &c, &j), MC_OK);
    ASSERT_KEYS(j, "type", "url", "status", "token", "error");
    assert_str(j, "status", "invalid");
    ck_assert_int_eq(json_get_object(j, "error", &err), MC_OK);
    assert_problem(err, "urn:ietf:params:acme:error:incorrectResponse",
                   "key authorization \"x.y\" wrong", 400);
    assert_round_trip(j);
    cJSON_Delete(j);

    /* Invalid with no recorded error type: no "error". Valid with a stale error: none. */
    memset(&c.error, 0, sizeof(c.error));
    ck_assert_int_eq(render_challenge(BASE, &c, &j), MC_OK);
    ASSERT_KEYS(j, "type", "url", "status", "token");
    cJSON_Delete(j);
    c.status = CHALL_VALID;
    acme_error_set(&c.error, ACME_P_CONNECTION, 0, "stale");
    ck_assert_int_eq(render_challenge(BASE, &c, &j), MC_OK);
    ASSERT_KEYS(j, "type", "url", "status", "token", "validated");
    cJSON_Delete(j);
    j = (cJSON *)1;

    c.type = (enum chall_type)0;
    ck_assert_int_eq(render_challenge(BASE, &c, &j), MC_ERR_INVALID);
    ck_assert_ptr_null(j);
    c.type = CHALL_HTTP01;
    c.status = (enum chall_status)5;
    ck_assert_int_eq(render_challenge(BASE, &c, &j), MC_ERR_INVALID);
}
END_TEST

START_TEST(test_authz)
{
    struct authz_snap a;
    cJSON *j = NULL;
    const cJSON *arr = NULL, *id = NULL, *ch = NULL;
    static const struct {
        enum authz_status st;
        const char *name;
    } states[] = {{AUTHZ_PENDING, "pending"}, {AUTHZ_VALID, "valid"},
                  {AUTHZ_INVALID, "invalid"}, {AUTHZ_DEACTIVATED, "deactivated"},
                  {AUTHZ_EXPIRED, "expired"}, {AUTHZ_REVOKED, "revoked"}};

    memset(&a, 0, sizeof(a));
    memcpy(a.id, "authz000000000000000A1", STORE_ID_LEN + 1);
    memcpy(a.account_id, "AAAAAAAAAAAAAAAAAAAAAA", STORE_ID_LEN + 1);
    a.ident.type = IDENT_DNS;
    a.ident.value = (char *)"example.org";
    a.expires_ms = T_MS;
    chall_init(&a.challenges[0], "chall00000000000000001", CHALL_HTTP01, CHALL_PENDING);
    chall_init(&a.challenges[1], "chall00000000000000002", CHALL_DNS01, CHALL_PENDING);
    chall_init(&a.challenges[2], "chall00000000000000003", CHALL_TLSALPN01, CHALL_PENDING);
    a.n_challenges = 3;

    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        a.status = states[i].st;
        ck_assert_int_eq(render_authz(BASE, &a, &j), MC_OK);
        /* No "wildcard" member at all when false (Pebble's omitempty). */
        ASSERT_KEYS(j, "identifier", "status", "expires", "challenges");
        assert_str(j, "status", states[i].name);
        assert_time(j, "expires", T_MS);
        ck_assert_int_eq(json_get_object(j, "identifier", &id), MC_OK);
        assert_ident(id, "dns", "example.org");
        /* Every challenge, whatever the status. */
        ck_assert_int_eq(json_get_array(j, "challenges", &arr), MC_OK);
        ck_assert_int_eq(cJSON_GetArraySize(arr), 3);
        ch = cJSON_GetArrayItem(arr, 1);
        ASSERT_KEYS(ch, "type", "url", "status", "token");
        assert_str(ch, "type", "dns-01");
        assert_str(ch, "url", BASE "/chalZ/chall00000000000000002");
        assert_round_trip(j);
        cJSON_Delete(j);
    }

    /* A valid authorization whose http-01 succeeded: that challenge carries validated. */
    a.status = AUTHZ_VALID;
    a.challenges[0].status = CHALL_VALID;
    a.challenges[0].validated_ms = T_MS - 5000;
    ck_assert_int_eq(render_authz(BASE, &a, &j), MC_OK);
    ck_assert_int_eq(json_get_array(j, "challenges", &arr), MC_OK);
    ch = cJSON_GetArrayItem(arr, 0);
    ASSERT_KEYS(ch, "type", "url", "status", "token", "validated");
    assert_time(ch, "validated", T_MS - 5000);
    cJSON_Delete(j);

    /* Wildcard: "wildcard": true and the identifier without "*.", even if the snapshot
     * were to carry the prefix. */
    a.status = AUTHZ_PENDING;
    a.wildcard = true;
    a.n_challenges = 1;
    chall_init(&a.challenges[0], "chall00000000000000004", CHALL_DNS01, CHALL_PENDING);
    for (int pass = 0; pass < 2; pass++) {
        a.ident.value = (char *)(pass == 0 ? "example.org" : "*.example.org");
        ck_assert_int_eq(render_authz(BASE, &a, &j), MC_OK);
        ASSERT_KEYS(j, "identifier", "status", "expires", "challenges", "wildcard");
        assert_true(j, "wildcard");
        ck_assert_int_eq(json_get_object(j, "identifier", &id), MC_OK);
        assert_ident(id, "dns", "example.org");
        ck_assert_int_eq(json_get_array(j, "challenges", &arr), MC_OK);
        ck_assert_int_eq(cJSON_GetArraySize(arr), 1);
        assert_round_trip(j);
        cJSON_Delete(j);
    }

    /* An IP identifier (RFC 8738). */
    a.wildcard = false;
    a.ident.type = IDENT_IP;
    a.ident.value = (char *)"192.0.2.7";
    ck_assert_int_eq(render_authz(BASE, &a, &j), MC_OK);
    ck_assert_int_eq(json_get_object(j, "identifier", &id), MC_OK);
    assert_ident(id, "ip", "192.0.2.7");
    cJSON_Delete(j);
    j = (cJSON *)1;

    a.n_challenges = STORE_MAX_CHALLENGES + 1;
    ck_assert_int_eq(render_authz(BASE, &a, &j), MC_ERR_INVALID);
    ck_assert_ptr_null(j);
    a.n_challenges = 1;
    a.status = (enum authz_status)0;
    ck_assert_int_eq(render_authz(BASE, &a, &j), MC_ERR_INVALID);
    ck_assert_ptr_null(j);
}
END_TEST

/* ---- orders list and problems ------------------------------------------------------------ */

START_TEST(test_orders_list)
{
    char ids[2][STORE_ID_LEN + 1] = {"order00000000000000001", "order00000000000000002"};
    cJSON *j = NULL;
    const cJSON *arr = NULL;

    ck_assert_int_eq(render_orders_list(BASE, (const char(*)[STORE_ID_LEN + 1]) ids, 2, &j), MC_OK);
    ASSERT_KEYS(j, "orders");
    ck_assert_int_eq(json_get_array(j, "orders", &arr), MC_OK);
    ck_assert_int_eq(cJSON_GetArraySize(arr), 2);
    ck_assert_str_eq(cJSON_GetArrayItem(arr, 0)->valuestring,
                     BASE "/my-order/order00000000000000001");
    ck_assert_str_eq(cJSON_GetArrayItem(arr, 1)->valuestring,
                     BASE "/my-order/order00000000000000002");
    assert_round_trip(j);
    cJSON_Delete(j);

    /* No orders: an empty array, still present (section 7.1.2.1). */
    ck_assert_int_eq(render_orders_list(BASE, NULL, 0, &j), MC_OK);
    ASSERT_KEYS(j, "orders");
    ck_assert_int_eq(json_get_array(j, "orders", &arr), MC_OK);
    ck_assert_int_eq(cJSON_GetArraySize(arr), 0);
    assert_round_trip(j);
    cJSON_Delete(j);
    j = (cJSON *)1;

    ck_assert_int_eq(render_orders_list(BASE, NULL, 1, &j), MC_ERR_INVALID);
    ck_assert_ptr_null(j);
    memset(ids[1], 'x', sizeof(ids[1])); /* no terminator inside the slot */
    ck_assert_int_eq(render_orders_list(BASE, (const char(*)[STORE_ID_LEN + 1]) ids, 2, &j),
                     MC_ERR_INVALID);
    ck_assert_ptr_null(j);
}
END_TEST

START_TEST(test_problem)
{
    struct acme_error e;
    struct ident ip = {IDENT_IP, (char *)"2001:db8::1"};
    struct ident dns = {IDENT_DNS, (char *)"*.example.org"};
    cJSON *j = NULL;
    const cJSON *id = NULL;

    acme_error_set(&e, ACME_P_MALFORMED, 0, "bad \"payload\"\n");
    ck_assert_int_eq(render_problem(&e, NULL, &j), MC_OK);
    assert_problem(j, "urn:ietf:params:acme:error:malformed", "bad \"payload\"\n", 400);
    assert_round_trip(j);
    cJSON_Delete(j);

    /* A check's own status (415 for a wrong Content-Type) is kept. */
    acme_error_set(&e, ACME_P_MALFORMED, 415, "Content-Type");
    ck_assert_int_eq(render_problem(&e, NULL, &j), MC_OK);
    assert_problem(j, "urn:ietf:params:acme:error:malformed", "Content-Type", 415);
    cJSON_Delete(j);

    /* A status left 0 by hand falls back to the type's default. */
    memset(&e, 0, sizeof(e));
    e.type = ACME_P_RATE_LIMITED;
    ck_assert_int_eq(render_problem(&e, NULL, &j), MC_OK);
    assert_problem(j, "urn:ietf:params:acme:error:rateLimited", "", 429);
    cJSON_Delete(j);

    /* A subproblem (section 6.7.1) names its identifier, as given (order form). */
    acme_error_set(&e, ACME_P_REJECTED_IDENTIFIER, 0, "not here");
    ck_assert_int_eq(render_problem(&e, &ip, &j), MC_OK);
    ASSERT_KEYS(j, "type", "detail", "status", "identifier");
    assert_str(j, "type", "urn:ietf:params:acme:error:rejectedIdentifier");
    ck_assert_int_eq(json_get_object(j, "identifier", &id), MC_OK);
    assert_ident(id, "ip", "2001:db8::1");
    assert_round_trip(j);
    cJSON_Delete(j);
    ck_assert_int_eq(render_problem(&e, &dns, &j), MC_OK);
    ck_assert_int_eq(json_get_object(j, "identifier", &id), MC_OK);
    assert_ident(id, "dns", "*.example.org");
    cJSON_Delete(j);
    j = (cJSON *)1;

    /* No type: nothing to say, refused. */
    memset(&e, 0, sizeof(e));
    ck_assert_int_eq(render_problem(&e, NULL, &j), MC_ERR_INVALID);
    ck_assert_ptr_null(j);
    e.type = ACME_P_COUNT;
    ck_assert_int_eq(render_problem(&e, NULL, &j), MC_ERR_INVALID);
    ck_assert_int_eq(render_problem(NULL, NULL, &j), MC_ERR_INVALID);
    ck_assert_ptr_null(j);
}
END_TEST

/* The fixed instant above really is what the test says, so a broken parser cannot make
 * every time comparison agree with a broken formatter. */
START_TEST(test_time_text)
{
    ck_assert_int_eq(parse_rfc3339_ms(T_TEXT), T_MS);
    ck_assert_int_eq(parse_rfc3339_ms("1970-01-01T00:00:00.000Z"), 0);
}
END_TEST

static Suite *render_suite(void)
{
    Suite *s = suite_create("acme_render");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_time_text);
    tcase_add_test(tc, test_url);
    tcase_add_test(tc, test_directory_bare);
    tcase_add_test(tc, test_directory_meta_members);
    tcase_add_test(tc, test_directory_refusals);
    tcase_add_test(tc, test_account);
    tcase_add_test(tc, test_order_pending_and_ready);
    tcase_add_test(tc, test_order_valid);
    tcase_add_test(tc, test_order_invalid);
    tcase_add_test(tc, test_challenge);
    tcase_add_test(tc, test_authz);
    tcase_add_test(tc, test_orders_list);
    tcase_add_test(tc, test_problem);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(render_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
