/* test_va.c: the validation authority against a real in-process dnsmock: its DNS server
 * answers every lookup, its http-01 and tls-alpn-01 responders play the client. Each
 * test sets up what the client would publish, runs one validation and checks what a CA
 * operator would read: valid or not, the problem type, and the address contacted. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <openssl/evp.h>

#include "common/b64url.h"
#include "dnsmock/dnsmock.h"
#include "dnsmock/internal.h" /* d->chals, for a body over the management API's cap */
#include "dnsmock/responders.h"
#include "dnsmock/zone.h"
#include "mockca/va.h"
#include "testutil.h"

static struct dnsmock *d;
static struct va_config cfg;

static void setup(void)
{
    d = tu_dnsmock_start();
    memset(&cfg, 0, sizeof(cfg));
    cfg.dns_server = dnsmock_addr(d);
    cfg.http_port = dnsmock_http01_port(d);
    cfg.tls_port = dnsmock_tlsalpn01_port(d);
    cfg.timeout_ms = 2000;
}

static void teardown(void)
{
    dnsmock_stop(d);
    d = NULL;
}

static void post(const char *path, const char *json)
{
    long st = tu_post_json(dnsmock_mgmt_url(d), path, json, NULL);
    ck_assert_msg(st == 200, "POST %s %.200s: %ld", path, json, st);
}

static struct ident dns_ident(const char *name)
{
    struct ident id = {IDENT_DNS, (char *)name};
    return id;
}

static struct ident ip_ident(const char *ip)
{
    struct ident id = {IDENT_IP, (char *)ip};
    return id;
}

/* A port on loopback with nothing listening: bound by the kernel, then closed. */
static uint16_t closed_port(void)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* base64url(SHA-256(ka)): what a client publishes in TXT for dns-01. */
static char *txt_value(const char *ka)
{
    uint8_t h[32];
    unsigned int hl = 0;
    char *out = NULL;
    ck_assert_int_eq(EVP_Digest(ka, strlen(ka), h, &hl, EVP_sha256(), NULL), 1);
    ck_assert_int_eq(b64url_encode(h, sizeof(h), &out), MC_OK);
    return out;
}

static void set_txt(const char *host, const char *value)
{
    char json[512];
    snprintf(json, sizeof(json), "{\"host\":\"%s\",\"value\":\"%s\"}", host, value);
    post("/set-txt", json);
}

static void assert_refused(const struct va_result *r, enum acme_problem type)
{
    ck_assert_msg(!r->valid, "expected %s, got valid", acme_problem_name(type));
    ck_assert_msg(r->error.type == type, "expected %s, got %s: %s", acme_problem_name(type),
                  acme_problem_name(r->error.type), r->error.detail);
    ck_assert_msg(r->error.detail[0] != '\0', "a refusal must say why");
}

static void assert_valid(const struct va_result *r, const char *address)
{
    ck_assert_msg(r->valid, "expected valid, got %s: %s", acme_problem_name(r->error.type),
                  r->error.detail);
    ck_assert_str_eq(r->address, address);
}

/* ---- http-01 ------------------------------------------------------------------------ */

START_TEST(http01_valid)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    post("/add-http01", "{\"token\":\"tok1\",\"content\":\"tok1.thumb\"}");
    va_http01(&cfg, &id, "tok1", "tok1.thumb", &r);
    assert_valid(&r, "127.0.0.1");
}
END_TEST

START_TEST(http01_address_from_our_dns)
{
    /* The name exists only in dnsmock; its A record says where to go. */
    struct ident id = dns_ident("only-in-dnsmock.invalid");
    struct va_result r;
    post("/add-a", "{\"host\":\"only-in-dnsmock.invalid\",\"addresses\":[\"127.0.0.1\"]}");
    post("/add-http01", "{\"token\":\"tokd\",\"content\":\"tokd.thumb\"}");
    va_http01(&cfg, &id, "tokd", "tokd.thumb", &r);
    assert_valid(&r, "127.0.0.1");
}
END_TEST

START_TEST(http01_wrong_content)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    post("/add-http01", "{\"token\":\"tok1\",\"content\":\"something-else\"}");
    va_http01(&cfg, &id, "tok1", "tok1.thumb", &r);
    assert_refused(&r, ACME_P_UNAUTHORIZED);
    ck_assert_ptr_nonnull(strstr(r.error.detail, "something-else"));
}
END_TEST

START_TEST(http01_missing_token)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    va_http01(&cfg, &id, "nosuchtoken", "nosuchtoken.thumb", &r);
    assert_refused(&r, ACME_P_UNAUTHORIZED);
    ck_assert_ptr_nonnull(strstr(r.error.detail, "404"));
}
END_TEST

START_TEST(http01_nothing_listening)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    cfg.http_port = closed_port();
    va_http01(&cfg, &id, "tok1", "tok1.thumb", &r);
    assert_refused(&r, ACME_P_CONNECTION);
}
END_TEST

START_TEST(http01_no_address)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    post("/set-default-ipv4", "{\"ip\":\"\"}");
    post("/set-default-ipv6", "{\"ip\":\"\"}");
    post("/add-http01", "{\"token\":\"tok1\",\"content\":\"tok1.thumb\"}");
    va_http01(&cfg, &id, "tok1", "tok1.thumb", &r);
    assert_refused(&r, ACME_P_DNS);
    ck_assert_ptr_nonnull(strstr(r.error.detail, "no A/AAAA"));
}
END_TEST

START_TEST(http01_ipv6_preferred)
{
    /* With prefer_ipv6 the AAAA (::1, where the responder, bound to 127.0.0.1, does not
     * listen) is contacted; without it the A. */
    struct ident id = dns_ident("example.test");
    struct va_result r;
    post("/add-http01", "{\"token\":\"tok1\",\"content\":\"tok1.thumb\"}");
    post("/add-aaaa", "{\"host\":\"example.test\",\"addresses\":[\"::1\"]}");
    cfg.prefer_ipv6 = true;
    va_http01(&cfg, &id, "tok1", "tok1.thumb", &r);
    assert_refused(&r, ACME_P_CONNECTION);
    ck_assert_msg(strstr(r.error.detail, "at ::1") != NULL, "%s", r.error.detail);
    cfg.prefer_ipv6 = false;
    va_http01(&cfg, &id, "tok1", "tok1.thumb", &r);
    assert_valid(&r, "127.0.0.1");
}
END_TEST

START_TEST(http01_trailing_whitespace)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    post("/add-http01", "{\"token\":\"tokw\",\"content\":\"tokw.thumb \\r\\n\"}");
    va_http01(&cfg, &id, "tokw", "tokw.thumb", &r);
    assert_valid(&r, "127.0.0.1");
}
END_TEST

START_TEST(http01_body_over_cap)
{
    /* The management API caps content at 4096 bytes, our cap too; so put a longer body
     * into the responder's store directly (its own cap is 8192). */
    struct ident id = dns_ident("example.test");
    struct va_result r;
    size_t n = VA_HTTP_BODY_MAX + 100;
    char *big = malloc(n + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'a', n);
    big[n] = '\0';
    ck_assert_int_eq(chal_add_http01(d->chals, "tokb", big), MC_OK);
    free(big);
    va_http01(&cfg, &id, "tokb", "tokb.thumb", &r);
    assert_refused(&r, ACME_P_UNAUTHORIZED);
    ck_assert_ptr_nonnull(strstr(r.error.detail, "larger than"));
}
END_TEST

START_TEST(http01_redirect_followed)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    char json[512];
    /* To another path and another name, which only our DNS resolves. */
    post("/add-a", "{\"host\":\"moved.invalid\",\"addresses\":[\"127.0.0.1\"]}");
    snprintf(json, sizeof(json),
             "{\"path\":\"/.well-known/acme-challenge/tokr\",\"targetURL\":"
             "\"http://moved.invalid:%u/.well-known/acme-challenge/tokr2\"}",
             (unsigned)cfg.http_port);
    post("/add-redirect", json);
    post("/add-http01", "{\"token\":\"tokr2\",\"content\":\"tokr.thumb\"}");
    va_http01(&cfg, &id, "tokr", "tokr.thumb", &r);
    assert_valid(&r, "127.0.0.1");
}
END_TEST

START_TEST(http01_redirect_loop_bounded)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    char json[512];
    snprintf(json, sizeof(json),
             "{\"path\":\"/.well-known/acme-challenge/loop\",\"targetURL\":"
             "\"http://example.test:%u/elsewhere\"}",
             (unsigned)cfg.http_port);
    post("/add-redirect", json);
    snprintf(json, sizeof(json),
             "{\"path\":\"/elsewhere\",\"targetURL\":"
             "\"http://example.test:%u/.well-known/acme-challenge/loop\"}",
             (unsigned)cfg.http_port);
    post("/add-redirect", json);
    va_http01(&cfg, &id, "loop", "loop.thumb", &r);
    assert_refused(&r, ACME_P_CONNECTION);
    ck_assert_ptr_nonnull(strstr(r.error.detail, "too many redirects"));
}
END_TEST

START_TEST(http01_redirect_to_https)
{
    /* To https on dnsmock's https01 listener: a self-signed certificate, not verified. */
    struct ident id = dns_ident("example.test");
    struct va_result r;
    char json[512];
    snprintf(json, sizeof(json),
             "{\"path\":\"/.well-known/acme-challenge/tokh\",\"targetURL\":"
             "\"https://example.test:%u/.well-known/acme-challenge/tokh2\"}",
             (unsigned)dnsmock_https01_port(d));
    post("/add-redirect", json);
    post("/add-http01", "{\"token\":\"tokh2\",\"content\":\"tokh.thumb\"}");
    va_http01(&cfg, &id, "tokh", "tokh.thumb", &r);
    assert_valid(&r, "127.0.0.1");
}
END_TEST

START_TEST(http01_token_not_base64url)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    va_http01(&cfg, &id, "../../etc?x=1", "ka", &r);
    assert_refused(&r, ACME_P_MALFORMED);
}
END_TEST

START_TEST(http01_ip_identifier)
{
    struct ident id = ip_ident("127.0.0.1");
    struct va_result r;
    post("/set-default-ipv4", "{\"ip\":\"\"}"); /* an IP is used as it is, never looked up */
    post("/add-http01", "{\"token\":\"tokip\",\"content\":\"tokip.thumb\"}");
    va_http01(&cfg, &id, "tokip", "tokip.thumb", &r);
    assert_valid(&r, "127.0.0.1");
}
END_TEST

/* ---- dns-01 ------------------------------------------------------------------------- */

START_TEST(dns01_valid)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    char *v = txt_value("ka.dns");
    set_txt("_acme-challenge.example.test", "decoy");
    set_txt("_acme-challenge.example.test", v);
    va_dns01(&cfg, &id, "ka.dns", &r);
    assert_valid(&r, "127.0.0.1");
    free(v);
}
END_TEST

START_TEST(dns01_truncated_falls_back_to_tcp)
{
    /* 20 decoys of 100 bytes do not fit a 512-byte UDP answer: TC=1, asked again over TCP. */
    struct ident id = dns_ident("big.test");
    struct va_result r;
    char decoy[101];
    char *v = txt_value("ka.big");
    for (int i = 0; i < 20; i++) {
        memset(decoy, 'a' + i, 100);
        decoy[100] = '\0';
        set_txt("_acme-challenge.big.test", decoy);
    }
    set_txt("_acme-challenge.big.test", v);
    va_dns01(&cfg, &id, "ka.big", &r);
    assert_valid(&r, "127.0.0.1");
    free(v);
}
END_TEST

START_TEST(dns01_wildcard_base_name)
{
    struct ident id = dns_ident("*.example.test");
    struct va_result r;
    char *v = txt_value("ka.wild");
    set_txt("_acme-challenge.example.test", v);
    va_dns01(&cfg, &id, "ka.wild", &r);
    assert_valid(&r, "127.0.0.1");
    free(v);
}
END_TEST

START_TEST(dns01_wrong_value)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    char *v = txt_value("another-ka");
    set_txt("_acme-challenge.example.test", v);
    va_dns01(&cfg, &id, "ka.dns", &r);
    assert_refused(&r, ACME_P_UNAUTHORIZED);
    free(v);
}
END_TEST

START_TEST(dns01_missing)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    va_dns01(&cfg, &id, "ka.dns", &r);
    assert_refused(&r, ACME_P_UNAUTHORIZED);
    ck_assert_ptr_nonnull(strstr(r.error.detail, "no TXT"));
}
END_TEST

START_TEST(dns01_via_cname)
{
    struct ident id = dns_ident("cn.test");
    struct va_result r;
    char *v = txt_value("ka.cname");
    post("/set-cname",
         "{\"host\":\"_acme-challenge.cn.test\",\"target\":\"validation.other.test\"}");
    set_txt("validation.other.test", v);
    va_dns01(&cfg, &id, "ka.cname", &r);
    assert_valid(&r, "127.0.0.1");
    free(v);
}
END_TEST

START_TEST(dns01_servfail)
{
    struct ident id = dns_ident("sf.test");
    struct va_result r;
    char *v = txt_value("ka.sf");
    set_txt("_acme-challenge.sf.test", v);
    post("/set-servfail", "{\"host\":\"_acme-challenge.sf.test\"}");
    va_dns01(&cfg, &id, "ka.sf", &r);
    assert_refused(&r, ACME_P_DNS);
    ck_assert_ptr_nonnull(strstr(r.error.detail, "SERVFAIL"));
    free(v);
}
END_TEST

START_TEST(dns01_server_down)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)closed_port());
    cfg.dns_server = addr;
    cfg.timeout_ms = 500;
    va_dns01(&cfg, &id, "ka.dns", &r);
    assert_refused(&r, ACME_P_DNS);
}
END_TEST

/* ---- dns-account-01 ------------------------------------------------------------------ */

/* The draft's example account (also in Certify The Web's docs): its label. */
#define ACCT_URL "https://example.com/acme/acct/ExampleAccount"
#define ACCT_LABEL "_ujmmovf2vn55tgye"

START_TEST(dns_account01_valid)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    char *v = txt_value("ka.acct");
    set_txt(ACCT_LABEL "._acme-challenge.example.test", v);
    va_dns_account01(&cfg, &id, ACCT_URL, "ka.acct", &r);
    assert_valid(&r, "127.0.0.1");
    free(v);
}
END_TEST

START_TEST(dns_account01_wrong_label)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    char *v = txt_value("ka.acct");
    /* The record of another account, and the plain dns-01 name: neither counts. */
    set_txt(ACCT_LABEL "._acme-challenge.example.test", v);
    set_txt("_acme-challenge.example.test", v);
    va_dns_account01(&cfg, &id, "https://example.com/acme/acct/Other", "ka.acct", &r);
    assert_refused(&r, ACME_P_UNAUTHORIZED);
    free(v);
}
END_TEST

/* ---- tls-alpn-01 --------------------------------------------------------------------- */

START_TEST(tlsalpn01_valid)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    post("/add-tlsalpn01", "{\"host\":\"example.test\",\"content\":\"ka.tls\"}");
    va_tlsalpn01(&cfg, &id, "ka.tls", &r);
    assert_valid(&r, "127.0.0.1");
}
END_TEST

START_TEST(tlsalpn01_ip_identifier)
{
    /* RFC 8738: SNI 1.0.0.127.in-addr.arpa, SAN the IP. */
    struct ident id = ip_ident("127.0.0.1");
    struct va_result r;
    post("/add-tlsalpn01", "{\"host\":\"1.0.0.127.in-addr.arpa\",\"content\":\"ka.tlsip\"}");
    va_tlsalpn01(&cfg, &id, "ka.tlsip", &r);
    assert_valid(&r, "127.0.0.1");
}
END_TEST

START_TEST(tlsalpn01_wrong_key_authorization)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    post("/add-tlsalpn01", "{\"host\":\"example.test\",\"content\":\"another-ka\"}");
    va_tlsalpn01(&cfg, &id, "ka.tls", &r);
    assert_refused(&r, ACME_P_UNAUTHORIZED);
    ck_assert_ptr_nonnull(strstr(r.error.detail, "acmeIdentifier"));
}
END_TEST

START_TEST(tlsalpn01_unknown_host)
{
    struct ident id = dns_ident("unknown.test");
    struct va_result r;
    va_tlsalpn01(&cfg, &id, "ka.tls", &r);
    assert_refused(&r, ACME_P_TLS);
}
END_TEST

START_TEST(tlsalpn01_nothing_listening)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    cfg.tls_port = closed_port();
    va_tlsalpn01(&cfg, &id, "ka.tls", &r);
    assert_refused(&r, ACME_P_CONNECTION);
}
END_TEST

START_TEST(tlsalpn01_plain_http_peer)
{
    /* An http-01 listener on the TLS port: the handshake cannot succeed, bounded. */
    struct ident id = dns_ident("example.test");
    struct va_result r;
    cfg.tls_port = cfg.http_port;
    va_tlsalpn01(&cfg, &id, "ka.tls", &r);
    assert_refused(&r, ACME_P_TLS);
}
END_TEST

/* ---- CAA ----------------------------------------------------------------------------- */

static const char *const ours[] = {"mockca.test"};

static void add_caa(const char *host, uint8_t flags, const char *tag, const char *value)
{
    ck_assert_int_eq(zone_add_caa(dnsmock_zones(d), host, flags, tag, value), MC_OK);
}

START_TEST(caa_none_allows)
{
    struct ident id = dns_ident("www.nocaa.test");
    struct va_result r;
    va_caa(&cfg, &id, false, ours, 1, &r);
    assert_valid(&r, "127.0.0.1");
}
END_TEST

START_TEST(caa_issue_ours_allows)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    post("/add-caa", "{\"host\":\"example.test\",\"policies\":[{\"tag\":\"issue\","
                     "\"value\":\"other.ca\"},{\"tag\":\"issue\",\"value\":\"MockCA.test; "
                     "account=1\"}]}");
    va_caa(&cfg, &id, false, ours, 1, &r);
    assert_valid(&r, "127.0.0.1");
}
END_TEST

START_TEST(caa_other_ca_refused)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    post("/add-caa",
         "{\"host\":\"example.test\",\"policies\":[{\"tag\":\"issue\",\"value\":\"other.ca\"}]}");
    va_caa(&cfg, &id, false, ours, 1, &r);
    assert_refused(&r, ACME_P_CAA);
}
END_TEST

START_TEST(caa_empty_issue_forbids)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    add_caa("example.test", 0, "issue", ";");
    va_caa(&cfg, &id, false, ours, 1, &r);
    assert_refused(&r, ACME_P_CAA);
}
END_TEST

START_TEST(caa_iodef_only_allows)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    add_caa("example.test", 0, "iodef", "mailto:security@example.test");
    va_caa(&cfg, &id, false, ours, 1, &r);
    assert_valid(&r, "127.0.0.1");
}
END_TEST

START_TEST(caa_issuewild_precedence)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    add_caa("example.test", 0, "issue", "mockca.test");
    add_caa("example.test", 0, "issuewild", "other.ca");
    va_caa(&cfg, &id, true, ours, 1, &r);
    assert_refused(&r, ACME_P_CAA); /* issuewild names another CA */
    va_caa(&cfg, &id, false, ours, 1, &r);
    assert_valid(&r, "127.0.0.1"); /* issuewild does not govern a plain name */
}
END_TEST

START_TEST(caa_issuewild_allows_wildcard)
{
    struct ident id = dns_ident("*.example.test");
    struct va_result r;
    add_caa("example.test", 0, "issue", "other.ca");
    add_caa("example.test", 0, "issuewild", "mockca.test");
    va_caa(&cfg, &id, true, ours, 1, &r);
    assert_valid(&r, "127.0.0.1");
}
END_TEST

START_TEST(caa_wildcard_falls_back_to_issue)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    add_caa("example.test", 0, "issue", "other.ca");
    va_caa(&cfg, &id, true, ours, 1, &r);
    assert_refused(&r, ACME_P_CAA);
}
END_TEST

START_TEST(caa_critical_unknown_tag)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    add_caa("example.test", 0, "issue", "mockca.test");
    add_caa("example.test", 128, "tbs", "whatever");
    va_caa(&cfg, &id, false, ours, 1, &r);
    assert_refused(&r, ACME_P_CAA);
    ck_assert_ptr_nonnull(strstr(r.error.detail, "tbs"));
}
END_TEST

START_TEST(caa_noncritical_unknown_tag_ignored)
{
    struct ident id = dns_ident("example.test");
    struct va_result r;
    add_caa("example.test", 0, "issue", "mockca.test");
    add_caa("example.test", 0, "tbs", "whatever");
    va_caa(&cfg, &id, false, ours, 1, &r);
    assert_valid(&r, "127.0.0.1");
}
END_TEST

START_TEST(caa_tree_climbing)
{
    struct ident sub = dns_ident("a.b.parent.test");
    struct ident own = dns_ident("own.parent.test");
    struct va_result r;
    add_caa("parent.test", 0, "issue", "other.ca");
    va_caa(&cfg, &sub, false, ours, 1, &r);
    assert_refused(&r, ACME_P_CAA);
    ck_assert_ptr_nonnull(strstr(r.error.detail, "parent.test"));
    /* The closest non-empty set wins: a subdomain's own CAA stops the climb. */
    add_caa("own.parent.test", 0, "issue", "mockca.test");
    va_caa(&cfg, &own, false, ours, 1, &r);
    assert_valid(&r, "127.0.0.1");
}
END_TEST

START_TEST(caa_servfail)
{
    struct ident id = dns_ident("sf.test");
    struct va_result r;
    post("/set-servfail", "{\"host\":\"sf.test\"}");
    va_caa(&cfg, &id, false, ours, 1, &r);
    assert_refused(&r, ACME_P_DNS);
}
END_TEST

START_TEST(caa_servfail_on_parent)
{
    struct ident id = dns_ident("www.sfp.test");
    struct va_result r;
    post("/set-servfail", "{\"host\":\"sfp.test\"}");
    va_caa(&cfg, &id, false, ours, 1, &r);
    assert_refused(&r, ACME_P_DNS);
}
END_TEST

START_TEST(caa_ip_identifier)
{
    struct ident id = ip_ident("127.0.0.1");
    struct va_result r;
    va_caa(&cfg, &id, false, ours, 1, &r);
    assert_valid(&r, "127.0.0.1");
}
END_TEST

static Suite *va_suite(void)
{
    Suite *s = suite_create("va");
    TCase *h = tcase_create("http01"), *n = tcase_create("dns01"), *t = tcase_create("tlsalpn01"),
          *c = tcase_create("caa");
    TCase *all[] = {h, n, t, c};
    for (size_t i = 0; i < 4; i++) {
        tcase_add_checked_fixture(all[i], setup, teardown);
        tcase_set_timeout(all[i], 60);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_test(h, http01_valid);
    tcase_add_test(h, http01_address_from_our_dns);
    tcase_add_test(h, http01_wrong_content);
    tcase_add_test(h, http01_missing_token);
    tcase_add_test(h, http01_nothing_listening);
    tcase_add_test(h, http01_no_address);
    tcase_add_test(h, http01_ipv6_preferred);
    tcase_add_test(h, http01_trailing_whitespace);
    tcase_add_test(h, http01_body_over_cap);
    tcase_add_test(h, http01_redirect_followed);
    tcase_add_test(h, http01_redirect_loop_bounded);
    tcase_add_test(h, http01_redirect_to_https);
    tcase_add_test(h, http01_ip_identifier);
    tcase_add_test(h, http01_token_not_base64url);
    tcase_add_test(n, dns01_valid);
    tcase_add_test(n, dns01_wildcard_base_name);
    tcase_add_test(n, dns01_truncated_falls_back_to_tcp);
    tcase_add_test(n, dns01_wrong_value);
    tcase_add_test(n, dns01_missing);
    tcase_add_test(n, dns01_via_cname);
    tcase_add_test(n, dns01_servfail);
    tcase_add_test(n, dns01_server_down);
    tcase_add_test(n, dns_account01_valid);
    tcase_add_test(n, dns_account01_wrong_label);
    tcase_add_test(t, tlsalpn01_valid);
    tcase_add_test(t, tlsalpn01_ip_identifier);
    tcase_add_test(t, tlsalpn01_wrong_key_authorization);
    tcase_add_test(t, tlsalpn01_unknown_host);
    tcase_add_test(t, tlsalpn01_nothing_listening);
    tcase_add_test(t, tlsalpn01_plain_http_peer);
    tcase_add_test(c, caa_none_allows);
    tcase_add_test(c, caa_issue_ours_allows);
    tcase_add_test(c, caa_other_ca_refused);
    tcase_add_test(c, caa_empty_issue_forbids);
    tcase_add_test(c, caa_iodef_only_allows);
    tcase_add_test(c, caa_issuewild_precedence);
    tcase_add_test(c, caa_issuewild_allows_wildcard);
    tcase_add_test(c, caa_wildcard_falls_back_to_issue);
    tcase_add_test(c, caa_critical_unknown_tag);
    tcase_add_test(c, caa_noncritical_unknown_tag_ignored);
    tcase_add_test(c, caa_tree_climbing);
    tcase_add_test(c, caa_servfail);
    tcase_add_test(c, caa_servfail_on_parent);
    tcase_add_test(c, caa_ip_identifier);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(va_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
