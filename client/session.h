/* session.h: an ACME session (RFC 8555): one server, one libcurl handle kept alive for the
 * whole session, one account key, and sess_post(), the one chokepoint every signed request
 * goes through. The chokepoint keeps a nonce pool refilled from every response, retries
 * badNonce with a fresh nonce (bounded, classified by problem type, never by text),
 * honours Retry-After in both forms (RFC 9110 section 10.2.3) on 429 and 503, backs off
 * exponentially with jitter and caps, bounds every response body, and keeps the last
 * problem document for the caller's error message.
 *
 *   struct sess_opts o;
 *   sess_opts_init(&o);
 *   o.directory_url = "https://127.0.0.1:14000/dir";
 *   o.ca_bundle = "root.pem";
 *   struct sess *s;
 *   if (sess_new(&o, &s) != MC_OK) ...   // fetches and checks the directory
  *   sess_set_account(s, key, NULL);      // then reg_register() (registration.h)
 *   ...
 *   sess_free(s);
 *
 * A session is used by one thread at a time; concurrent workers (certcli bench) each
 * open their own. */
#ifndef CERTCLI_SESSION_H
#define CERTCLI_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "common/err.h"

#define SESS_MAX_BODY (1024 * 1024)  /* a longer response is refused (MC_ERR_TOO_BIG) */
#define SESS_MAX_URL 2048
#define SESS_MAX_LINKS 16            /* Link headers kept per response */

struct sess_opts {
    const char *directory_url;
    /* TLS trust: ca_bundle, else $SSL_CERT_FILE, else $CURL_CA_BUNDLE, else the system
     * store. insecure skips verification and is only ever set by an explicit flag. */
    const char *ca_bundle;
    bool insecure;
    const char *user_agent;   /* NULL: "certcli/VERSION" */
    long timeout_s;           /* per HTTP exchange; default 30 */
    int bad_nonce_retries;    /* badNonce retries per request; default 5 */
    int busy_retries;         /* retries of a 503 (and of a 429 within max_wait_s); default 3 */
    long max_wait_s;          /* the longest single Retry-After wait honoured; default 60 */
    long backoff_base_ms;     /* first backoff when the server gives no Retry-After; 500 */
    long backoff_cap_ms;      /* backoff ceiling; 10000 */
    uint64_t seed;            /* backoff jitter; 0: drawn from the OS */
    bool progress;            /* a progress line on stderr while polling, if it is a tty */
};

/* Fills o with the defaults above (directory_url NULL). */
void sess_opts_init(struct sess_opts *o);

/* The directory (RFC 8555 section 7.1.1), every URL checked (https or http, no control
 * characters, at most SESS_MAX_URL). Missing optional resources are NULL. */
struct sess_dir {
    char *new_nonce, *new_account, *new_order, *new_authz, *revoke_cert, *key_change;
    char *renewal_info;       /* RFC 9773; NULL when the CA has no ARI */
    char *terms_of_service, *website;
    bool eab_required;
    char **caa_identities;
    size_t n_caa_identities;
    char **profile_names;     /* meta.profiles: name -> description */
    char **profile_descs;
    size_t n_profiles;
};

/* A problem document (RFC 7807 / RFC 8555 section 6.7). type is the full URN. */
struct sess_subproblem {
    char *type, *detail;
    char *ident_type, *ident_value; /* NULL when the subproblem names no identifier */
};
struct sess_problem {
    long status;              /* the HTTP status */
    char *type;               /* "urn:ietf:params:acme:error:badNonce"; "about:blank" if absent */
    char *detail;             /* may be NULL */
    struct sess_subproblem *sub;
    size_t n_sub;
    long retry_after_s;       /* from the Retry-After header, -1 when none */
};

/* One response. body is NUL-terminated (may hold a PEM chain); json is set when the
 * Content-Type was JSON (application/json or application/problem+json) and parsed. */
struct sess_link {
    char *rel, *url; /* url resolved against the request URL, then checked */
};
struct sess_resp {
    long status;
    char *body;
    size_t len;
    cJSON *json;
    char *content_type;
    char *location;           /* resolved against the request URL (RFC 9110 section 10.2.2),
                                 then checked as a URL; NULL when absent */
    struct sess_link links[SESS_MAX_LINKS];
    size_t n_links;
    long retry_after_s;       /* seconds from now (HTTP-date converted), -1 when none */
};
void sess_resp_free(struct sess_resp *r); /* frees the members, zeroes r; NULL ok */
/* The URL of the first Link with rel (e.g. "up", "alternate", "index"), or NULL. */
const char *sess_resp_link(const struct sess_resp *r, const char *rel, size_t nth);

struct sess;

/* Opens a session: builds the curl handle, fetches and checks the directory (MC_ERR_IO for
 * transport and TLS errors, MC_ERR_INVALID for a directory that is not a JSON object of
 * valid URLs or lacks newNonce/newAccount/newOrder). *out is new (sess_free). */
MC_MUST_CHECK enum mc_err sess_new(const struct sess_opts *o, struct sess **out);
void sess_free(struct sess *s); /* NULL ok; frees the key reference too */

const struct sess_dir *sess_directory(const struct sess *s);

/* Sets the account key (a reference is taken; the previous one is released) and the
 * account URL kid (copied; NULL until the account is known). */
MC_MUST_CHECK enum mc_err sess_set_account(struct sess *s, EVP_PKEY *key,
                                           const char *kid);
EVP_PKEY *sess_account_key(const struct sess *s); /* borrowed */
const char *sess_kid(const struct sess *s);       /* borrowed, NULL if none */

/* The problem of the last request that ended in MC_ERR_PROBLEM, else NULL. Valid until the
 * next request. */
const struct sess_problem *sess_last_problem(const struct sess *s);
/* A one-line English description of the last failure (the problem's type and detail, or
 * the transport error), never NULL. */
const char *sess_last_error(const struct sess *s);

/* How a request is signed: with the session key and its kid (every request once the
 * account exists), with the session key's jwk (newAccount, and revocation by certificate
 * key with another key), see sess_post_with_key. */
enum sess_sign { SESS_SIGN_KID = 1, SESS_SIGN_JWK };

/* The chokepoint: a JWS-signed POST (RFC 8555 section 6.2) of payload (NULL: POST-as-GET,
 * the empty payload) to url with Content-Type application/jose+json. On a 2xx answer
 * returns MC_OK and fills *out. On an error status with a problem document: retries
 * badNonce (up to opts.bad_nonce_retries, each with a fresh nonce); waits out 503 (its
 * Retry-After, else backoff) up to opts.busy_retries times; waits out a 429 only when its
 * Retry-After is within opts.max_wait_s (a rate limit with a longer wait is the caller's to
 * report); otherwise returns MC_ERR_PROBLEM with the problem kept (sess_last_problem) and
 * *out filled too. MC_ERR_IO for transport errors, MC_ERR_TOO_BIG for an oversized body,
 * MC_ERR_INVALID for a malformed response (bad JSON where JSON was declared, a bad
 * Location or Link URL; relative ones are first resolved against the request URL). *out
 * is zeroed first and always sess_resp_free'd by the caller. */
MC_MUST_CHECK enum mc_err sess_post(struct sess *s, const char *url,
                                    const cJSON *payload, enum sess_sign how,
                                    struct sess_resp *out);
/* The same, signed with key (its jwk in the header, never a kid): revocation by the
 * certificate's key (section 7.6). */
MC_MUST_CHECK enum mc_err sess_post_with_key(struct sess *s, const char *url,
                                             const cJSON *payload, EVP_PKEY *key,
                                             struct sess_resp *out);
/* An unauthenticated GET (renewalInfo, section 4.2 of RFC 9773), same checks and bounds;
 * MC_ERR_PROBLEM on an error status. */
MC_MUST_CHECK enum mc_err sess_get(struct sess *s, const char *url,
                                   struct sess_resp *out);

/* Polls url with POST-as-GET until its "status" is none of the still-moving states
 * ("pending", "processing", and "ready" when ready_moves), honouring each response's
 * Retry-After (capped by opts.max_wait_s) or else backing off from 1 s, for at most
 * timeout_s in total. *out is the last object (caller deletes). MC_ERR_TIMEOUT when time
 * runs out, MC_ERR_INVALID when the object has no string status. A progress line is shown
 * on a terminal when opts.progress. what names the object for that line ("order"). */
MC_MUST_CHECK enum mc_err sess_poll(struct sess *s, const char *url, const char *what,
                                    bool ready_moves, long timeout_s, cJSON **out);

/* The key authorization token "." thumbprint(account key) (section 8.1), new string.
 * MC_ERR_INVALID when token is not 1..256 base64url characters. */
MC_MUST_CHECK enum mc_err sess_key_authorization(const struct sess *s,
                                                 const char *token, char **out);

/* Counters for tests and `certcli bench`. */
struct sess_stats {
    uint64_t requests, bad_nonce_retries, busy_waits, nonce_fetches, connections;
};
void sess_stats(const struct sess *s, struct sess_stats *out);

#endif
