/* test_cli_solver.c: the parts of certcli's solvers that need no network: the dns-01 and
 * dns-account-01 record (name and value), the checks that keep hostile tokens and names
 * away from files, URLs, DNS names and hooks, config validation, and address parsing. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "client/propagate.h"
#include "client/solver.h"
#include "client/solver_impl.h"
#include "testutil.h"

#define TOKEN "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
#define KEYAUTH TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
/* base64url(SHA-256(KEYAUTH)), computed independently (Python hashlib). */
#define KEYAUTH_TXT "lCM7cZyQXcVHK2nnW3jjAhNT3Fvm18UN-kWZZknKoYM"

static struct chall_ctx ctx(enum ch_type t, const struct ident *id)
{
    struct chall_ctx c;
    memset(&c, 0, sizeof c);
    c.type = t;
    c.ident = id;
    c.token = TOKEN;
    c.key_auth = KEYAUTH;
    return c;
}

static void expect_record(const struct chall_ctx *c, const char *name, const char *value)
{
    char *fqdn = NULL, *val = NULL;
    ck_assert_int_eq(solver_dns_record(c, &fqdn, &val), MC_OK);
    ck_assert_str_eq(fqdn, name);
    ck_assert_str_eq(val, value);
    free(fqdn);
    free(val);
}

START_TEST(dns01_record)
{
    struct ident id = {IDENT_DNS, "www.example.org"};
    struct ident star = {IDENT_DNS, "*.example.org"};
    struct ident upper = {IDENT_DNS, "WWW.Example.ORG"};
    struct chall_ctx c = ctx(CH_DNS01, &id);
    expect_record(&c, "_acme-challenge.www.example.org.", KEYAUTH_TXT);
    /* RFC 8555 section 8.4: a wildcard's record is at the base name. */
    c.ident = &star;
    expect_record(&c, "_acme-challenge.example.org.", KEYAUTH_TXT);
    c.ident = &upper;
    expect_record(&c, "_acme-challenge.www.example.org.", KEYAUTH_TXT);
}
END_TEST

/* draft-ietf-acme-dns-account-label's own example: this account URL has the label
 * "ujmmovf2vn55tgye" (also recomputed with Python: base32 of SHA-256's first 10 bytes). */
START_TEST(dns_account01_record)
{
    struct ident id = {IDENT_DNS, "example.org"};
    struct chall_ctx c = ctx(CH_DNSACCOUNT01, &id);
    c.account_url = "https://example.com/acme/acct/ExampleAccount";
    expect_record(&c, "_ujmmovf2vn55tgye._acme-challenge.example.org.", KEYAUTH_TXT);
}
END_TEST

START_TEST(dns_record_refusals)
{
    struct ident id = {IDENT_DNS, "www.example.org"};
    struct ident ip = {IDENT_IP, "192.0.2.1"};
    struct chall_ctx c = ctx(CH_HTTP01, &id);
    char *fqdn = NULL, *val = NULL;
    ck_assert_int_eq(solver_dns_record(&c, &fqdn, &val), MC_ERR_INVALID);
    c.type = CH_DNS01;
    c.ident = &ip; /* RFC 8738 section 7: no dns-01 for IP identifiers */
    ck_assert_int_eq(solver_dns_record(&c, &fqdn, &val), MC_ERR_INVALID);
    c.ident = &id;
    c.token = "../x";
    ck_assert_int_eq(solver_dns_record(&c, &fqdn, &val), MC_ERR_INVALID);
    c.token = TOKEN;
    c.key_auth = "a\"b";
    ck_assert_int_eq(solver_dns_record(&c, &fqdn, &val), MC_ERR_INVALID);
    c.key_auth = KEYAUTH;
    c.type = CH_DNSACCOUNT01; /* without an account URL */
    ck_assert_int_eq(solver_dns_record(&c, &fqdn, &val), MC_ERR_INVALID);
    ck_assert_int_eq(solver_dns_record(NULL, &fqdn, &val), MC_ERR_INVALID);
    ck_assert_ptr_null(fqdn);
    ck_assert_ptr_null(val);
}
END_TEST

START_TEST(token_validation)
{
    char big[301];
    ck_assert(sv_token_ok(TOKEN));
    ck_assert(sv_token_ok("a"));
    ck_assert(!sv_token_ok("../x"));
    ck_assert(!sv_token_ok(""));
    ck_assert(!sv_token_ok(NULL));
    ck_assert(!sv_token_ok("a b"));
    ck_assert(!sv_token_ok("abc "));
    ck_assert(!sv_token_ok("a/b"));
    ck_assert(!sv_token_ok("a+b"));
    ck_assert(!sv_token_ok("ab=="));
    ck_assert(!sv_token_ok("a.b"));
    ck_assert(!sv_token_ok("a\nb"));
    memset(big, 'A', 300);
    big[300] = '\0';
    ck_assert(!sv_token_ok(big));
    big[256] = '\0';
    ck_assert(sv_token_ok(big));
    big[257 - 1] = 'A';
    big[257] = '\0';
    ck_assert(!sv_token_ok(big));

    ck_assert(sv_keyauth_ok(KEYAUTH));
    ck_assert(!sv_keyauth_ok(""));
    ck_assert(!sv_keyauth_ok("a b"));
    ck_assert(!sv_keyauth_ok("a;rm -rf /"));
    ck_assert(!sv_keyauth_ok("$(id)"));
}
END_TEST

START_TEST(name_validation)
{
    char label64[80], long_name[300];
    struct ident id = {IDENT_DNS, NULL};
#define NAME_OK(t, v) (id.type = (t), id.value = (char *)(v), sv_ident_ok(&id))
    ck_assert(NAME_OK(IDENT_DNS, "example.org"));
    ck_assert(NAME_OK(IDENT_DNS, "a-b.c0.example"));
    ck_assert(NAME_OK(IDENT_DNS, "localhost"));
    ck_assert(!NAME_OK(IDENT_DNS, ""));
    ck_assert(!NAME_OK(IDENT_DNS, "../x"));
    ck_assert(!NAME_OK(IDENT_DNS, "ex ample.org"));
    ck_assert(!NAME_OK(IDENT_DNS, "*.example.org")); /* callers strip the wildcard */
    ck_assert(!NAME_OK(IDENT_DNS, "-a.example.org"));
    ck_assert(!NAME_OK(IDENT_DNS, "a-.example.org"));
    ck_assert(!NAME_OK(IDENT_DNS, "a..example.org"));
    ck_assert(!NAME_OK(IDENT_DNS, ".example.org"));
    ck_assert(!NAME_OK(IDENT_DNS, "example.org."));
    ck_assert(!NAME_OK(IDENT_DNS, "_x.example.org"));
    ck_assert(!NAME_OK(IDENT_DNS, "a\"b.example.org"));
    ck_assert(!NAME_OK(IDENT_DNS, "a;b.example.org"));
    memset(label64, 'a', 64);
    snprintf(label64 + 64, sizeof label64 - 64, ".org");
    ck_assert(!NAME_OK(IDENT_DNS, label64));
    snprintf(label64 + 63, sizeof label64 - 63, ".org");
    ck_assert(NAME_OK(IDENT_DNS, label64));
    /* 254 characters: one over RFC 1035's limit for the text form. */
    for (size_t i = 0; i < 254; i++)
        long_name[i] = (i % 10 == 9) ? '.' : 'a';
    long_name[254] = '\0';
    ck_assert(!NAME_OK(IDENT_DNS, long_name));
    long_name[253] = '\0';
    ck_assert(NAME_OK(IDENT_DNS, long_name));
    ck_assert(NAME_OK(IDENT_IP, "192.0.2.1"));
    ck_assert(NAME_OK(IDENT_IP, "2001:db8::1"));
    ck_assert(!NAME_OK(IDENT_IP, "192.0.2.256"));
    ck_assert(!NAME_OK(IDENT_IP, "example.org"));
    ck_assert(!NAME_OK(IDENT_IP, ""));
#undef NAME_OK
}
END_TEST

START_TEST(config_validation)
{
    struct solver *sv = NULL;
    struct solver_config c;

    memset(&c, 0, sizeof c);
    c.kind = (enum solver_kind)99;
    ck_assert_int_eq(solver_new(&c, &sv), MC_ERR_INVALID);
    c.kind = SOLVER_HTTP_WEBROOT; /* no webroot */
    ck_assert_int_eq(solver_new(&c, &sv), MC_ERR_INVALID);
    c.kind = SOLVER_DNS_MGMT;
    c.mgmt_url = "ftp://127.0.0.1:8055";
    ck_assert_int_eq(solver_new(&c, &sv), MC_ERR_INVALID);
    c.kind = SOLVER_DNS_RFC2136;
    c.server = "ns.example.org:53"; /* an address, not a name */
    ck_assert_int_eq(solver_new(&c, &sv), MC_ERR_INVALID);
    c.server = "127.0.0.1:5353";
    c.tsig_name = "k";
    c.tsig_secret = "c2VjcmV0";
    c.tsig_alg = "hmac-whirlpool";
    ck_assert_int_eq(solver_new(&c, &sv), MC_ERR_UNSUPPORTED);
    c.kind = SOLVER_DNS_HOOK;
    ck_assert_int_eq(solver_new(&c, &sv), MC_ERR_INVALID);
    ck_assert_ptr_null(sv);

    /* A DNS kind with a valid config: handles the DNS types, no port. */
    c.kind = SOLVER_DNS_RFC2136;
    c.tsig_alg = "HMAC-SHA256.";
    ck_assert_int_eq(solver_new(&c, &sv), MC_OK);
    ck_assert(solver_handles(sv, CH_DNS01));
    ck_assert(solver_handles(sv, CH_DNSACCOUNT01));
    ck_assert(!solver_handles(sv, CH_TLSALPN01));
    ck_assert_uint_eq(solver_port(sv), 0);
    solver_free(sv);

    ck_assert(!solver_handles(NULL, CH_HTTP01));
    ck_assert_uint_eq(solver_port(NULL), 0);
    solver_free(NULL);
}
END_TEST

START_TEST(addr_parsing)
{
    struct sockaddr_storage ss;
    socklen_t len;
    ck_assert_int_eq(prop_parse_addr("127.0.0.1", 53, &ss, &len), MC_OK);
    ck_assert_int_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 53);
    ck_assert_int_eq(prop_parse_addr("127.0.0.1:8053", 53, &ss, &len), MC_OK);
    ck_assert_int_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8053);
    ck_assert_int_eq(prop_parse_addr("[::1]:8053", 53, &ss, &len), MC_OK);
    ck_assert_int_eq(ss.ss_family, AF_INET6);
    ck_assert_int_eq(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 8053);
    ck_assert_int_eq(prop_parse_addr("2001:db8::53", 53, &ss, &len), MC_OK);
    ck_assert_int_eq(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 53);
    ck_assert_int_eq(prop_parse_addr("127.0.0.1:0", 53, &ss, &len), MC_ERR_INVALID);
    ck_assert_int_eq(prop_parse_addr("127.0.0.1:65536", 53, &ss, &len), MC_ERR_INVALID);
    ck_assert_int_eq(prop_parse_addr("127.0.0.1:x", 53, &ss, &len), MC_ERR_INVALID);
    ck_assert_int_eq(prop_parse_addr("[::1", 53, &ss, &len), MC_ERR_INVALID);
    ck_assert_int_eq(prop_parse_addr("localhost", 53, &ss, &len), MC_ERR_INVALID);
    ck_assert_int_eq(prop_parse_addr("", 53, &ss, &len), MC_ERR_INVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_solver");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, dns01_record);
    tcase_add_test(tc, dns_account01_record);
    tcase_add_test(tc, dns_record_refusals);
    tcase_add_test(tc, token_validation);
    tcase_add_test(tc, name_validation);
    tcase_add_test(tc, config_validation);
    tcase_add_test(tc, addr_parsing);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
