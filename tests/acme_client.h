/* acme_client.h: the ACME test client shared by the in-process mockca integration tests:
 * one libcurl handle talking HTTPS to one mockca (trusting its TLS root), JWS-signed POSTs
 * with the last Replay-Nonce, problem-document assertions, and the http-01 responder that
 * plays the client's side of a challenge. One client per test process: each test's setup
 * starts its mockca and calls ac_attach, its teardown calls ac_detach. Failures abort the
 * running test through Check's ck_assert. */
#ifndef MC_ACME_CLIENT_H
#define MC_ACME_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include "mockca/mockca.h"

#define JOSE_CT "Content-Type: application/jose+json"
#define URN "urn:ietf:params:acme:error:"
#define POLL_TRIES 1200 /* x 25 ms: 30 s at most per poll loop (CI machines are loaded) */
#define POLL_SLEEP_NS 25000000L
#define MAX_TOKENS 16

struct resp {
    long status;
    char *body;    /* NUL-terminated, never NULL after http; free with resp_free */
    size_t len;    /* strlen(body) */
    char *headers; /* raw header block, "Name: value\r\n" lines */
};

/* The client's state, set by ac_attach. Tests read them (g_m for mockca calls, g_nonce to
 * replay a nonce) and may use g_curl for raw exchanges between http calls. */
extern struct mockca *g_m;
extern CURL *g_curl;
extern char g_nonce[64];
extern char g_base[128]; /* the server's https://host:port, no trailing slash */
/* The User-Agent http sends; NULL (the start value) sends none. Never reset by ac_attach. */
extern const char *g_user_agent;

/* Attaches the client to a started mockca m: takes the base URL from its directory URL,
 * opens the curl handle, sets the request timeout to 20 s and fetches the first nonce
 * (HEAD newNonce must answer 200). */
void ac_attach(struct mockca *m);
/* Closes the curl handle and forgets the mockca (which the caller stops). */
void ac_detach(void);
/* The per-request timeout in seconds from now until the next ac_attach. */
void ac_set_timeout(long seconds);

/* Starts the http-01 responder on 127.0.0.1 port 0 with no tokens, and returns its port
 * (the CA's http-01 port). It serves /.well-known/acme-challenge/{token}. */
uint16_t ac_responder_start(void);
/* Stops the responder; a no-op when it is not running. */
void ac_responder_stop(void);

/* Starts an in-process mockca for a test and attaches the client: ACME (and, with
 * with_mgmt, management) on 127.0.0.1 port 0, the embedded dnsmock on port 0, http-01
 * answered by the responder (started here), no validation sleeps, no authorization reuse,
 * no background sweeper. adjust (may be NULL) changes the config last. Aborts the test on
 * failure. */
void ac_start(void (*adjust)(struct mockca_config *cfg), bool with_mgmt);
/* Detaches the client, stops the mockca ac_start started and the responder. */
void ac_stop(void);
/* Writes the attached mockca's TLS root (PEM, what its listeners chain to) to path, for a
 * client's CA bundle. Aborts the test on failure. */
void ac_write_tls_root(const char *path);
/* Makes the responder serve keyauth for token (at most MAX_TOKENS per start). */
void provision_http(const char *token, const char *keyauth);

/* A libcurl write/header callback appending to the char * buffer at ud (NUL-terminated). */
size_t collect(char *p, size_t size, size_t n, void *ud);
/* Frees r's buffers and zeroes it; r may be zeroed already. */
void resp_free(struct resp *r);
/* The value of the last header called name (case-insensitive) in r, new string, or NULL. */
char *header(const struct resp *r, const char *name);
/* How many headers called name contain sub. */
int header_count(const struct resp *r, const char *name, const char *sub);
/* True if some header called name contains sub. */
bool header_has(const struct resp *r, const char *name, const char *sub);

/* One exchange of method (GET, HEAD, POST or any other verb) with url, sending body on a
 * POST and the extra header lines hdrs (NULL-terminated, may be NULL). Asserts it completed
 * and that the response carried a Replay-Nonce, which it keeps in g_nonce. */
void http_hdrs(const char *method, const char *url, const char *const *hdrs, const char *body,
               struct resp *out);
/* http_hdrs with the one header JOSE_CT, as an ACME client sends it on every request. */
void http(const char *method, const char *url, const char *body, struct resp *out);

/* g_base + path, new string. */
char *url_of(const char *path);
/* r's body parsed as JSON (caller deletes); asserts it parses. */
cJSON *body_json(const struct resp *r);
/* The string member name of j; asserts it is there. */
const char *jstr(const cJSON *j, const char *name);
/* Asserts r is a problem document (application/problem+json) of type URN name with HTTP
 * status. */
void assert_problem(const struct resp *r, long status, const char *name);
/* assert_problem, and also that the document's own "status" member equals status. */
void assert_problem_status(const struct resp *r, long status, const char *name);

/* A new P-256 key (caller frees). */
EVP_PKEY *newkey(void);
/* A signed POST of payload (NULL: POST-as-GET) to url, with kid (NULL: the jwk of key) and
 * nonce (NULL: g_nonce). */
void post_url_nonce(const char *url, EVP_PKEY *key, const char *kid, const char *payload,
                    const char *nonce, struct resp *out);
/* post_url_nonce with g_nonce. */
void post_url(const char *url, EVP_PKEY *key, const char *kid, const char *payload,
              struct resp *out);
/* post_url to g_base + path. */
void post(const char *path, EVP_PKEY *key, const char *kid, const char *payload, struct resp *out);
/* newAccount for key with payload; returns the status and, when location is not NULL, the
 * Location header (new string or NULL). */
long new_account(EVP_PKEY *key, const char *payload, char **location);
/* A fresh account for key (asserts 201); its URL (the kid), new string. */
char *account(EVP_PKEY *key);

/* ---- ACME steps: an order from newOrder to the certificate ---------------------------- */

/* Sleeps POLL_SLEEP_NS, the pause between two polls of a poll loop. */
void pause_a_little(void);
/* newOrder with payload: asserts 201, a Location under ACME_PATH_ORDER and status pending;
 * returns the order's URL (new string) and its JSON in *order (caller deletes). */
char *new_order(EVP_PKEY *key, const char *kid, const char *payload, cJSON **order);
/* POST-as-GET url; asserts 200 and returns the JSON body (caller deletes). */
cJSON *fetch(EVP_PKEY *key, const char *kid, const char *url);
/* Polls url (at most POLL_TRIES times, POLL_SLEEP_NS apart) until its status is want and
 * returns that JSON (caller deletes); fails on a final status other than want (anything
 * but pending, processing or ready) and on running out of tries. */
cJSON *poll_status(EVP_PKEY *key, const char *kid, const char *url, const char *want);
/* The key authorization token.thumbprint(key) (RFC 8555 section 8.1), new string. */
char *keyauth_of(EVP_PKEY *key, const char *token);
/* Publishes the dns-01 TXT record for name (_acme-challenge.name = base64url(SHA-256 of
 * keyauth)) in the zones of g_m's embedded dnsmock. */
void set_txt(const char *name, const char *keyauth);
/* The challenge of type in authorization a (borrowed from a); fails if there is none. */
const cJSON *challenge_of(const cJSON *a, const char *type);
/* Provisions and answers the type challenge (http-01 through the responder, otherwise
 * dns-01 through set_txt) of every authorization of order, asserting 200 and one Link
 * rel="up" to the authorization; with bad_keyauth a wrong key authorization is
 * provisioned. Does not wait for validation. */
void answer_all(EVP_PKEY *key, const char *kid, const cJSON *order, const char *type,
                bool bad_keyauth);
/* A base64url DER CSR for the n DNS names, signed by key, with common name cn (may be
 * NULL). New string. */
char *csr_b64(EVP_PKEY *key, const char *cn, const char *const *names, size_t n);
/* POSTs {"csr": csr} to order's finalize URL into r; asserts nothing about the answer. */
void finalize(EVP_PKEY *key, const char *kid, const cJSON *order, const char *csr, struct resp *r);
/* The whole flow for the n DNS names with challenge type (newOrder, answer_all, poll ready,
 * finalize with a CSR whose CN is names[0], poll valid); the certificate key is ck (NULL: a
 * fresh one, freed here), and replaces (NULL: none) is sent as newOrder's "replaces" and
 * asserted echoed in the order. Returns the valid order (caller deletes). */
cJSON *issue_ex(EVP_PKEY *key, const char *kid, const char *const *names, size_t n,
                const char *type, EVP_PKEY *ck, const char *replaces);
/* issue_ex with a fresh certificate key and no "replaces". */
cJSON *issue(EVP_PKEY *key, const char *kid, const char *const *names, size_t n, const char *type);

#endif
