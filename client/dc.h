/* dc.h: a client of the DigiCert CertCentral Services API v2 (shared/specs/certcentral.md,
 * part A), the CertCentral half of libcertcli. One struct dc_client holds one libcurl
 * handle kept alive for all its calls, the API key sent as X-DC-DEVKEY on every request,
 * and the base URL (https://www.digicert.com/services/v2/ unless told otherwise, so that a
 * test points it at mockca). Every response is bounded; JSON is parsed with common/json.h
 * caps; an error answer's {"errors":[{"code","message"}]} envelope (A0) is kept, codes
 * intact ("not_found|order"), for the caller (dc_last_error). A 429 request_limit_exceeded
 * is retried after its Retry-After, a bounded number of times.
 *
 *   struct dc_opts o;
 *   dc_opts_init(&o);
 *   o.api_key = "...";
 *   o.base_url = "https://127.0.0.1:14000/services/v2/";
 *   struct dc_client *c;
 *   if (dc_new(&o, &c) != MC_OK) ...
 *   struct dc_placed p;
 *   if (dc_order_place(c, &req, &p) == MC_ERR_PROBLEM)
 *       printf("%s\n", dc_last_error(c)->items[0].code);
 *   dc_placed_free(&p);
 *   dc_free(c);
 *
 * Results the command only shows (order info, lists, validation) are handed back as the
 * parsed JSON; results the client acts on (ids, random values, chains, AuthKeys) are
 * typed. A client is used by one thread at a time. The prefix is dc_ (DigiCert), as
 * mockca's server side owns cc_. */
#ifndef CERTCLI_DC_H
#define CERTCLI_DC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

#define DC_DEFAULT_BASE_URL "https://www.digicert.com/services/v2/"
#define DC_MAX_BODY (8 * 1024 * 1024) /* downloads (zip, p7b, PEM); larger is refused */
#define DC_MAX_JSON (2 * 1024 * 1024) /* a JSON answer (order lists of 1000) */
#define DC_MAX_ERRORS 32              /* error items kept from one envelope */
#define DC_MAX_ID 128                 /* an id, serial, thumbprint or AuthKey id in a path */
#define DC_MAX_NAMES 250              /* dns_names of one order */
#define DC_TOKEN_LEN 64               /* a request token: 14 + 50 */

struct dc_opts {
    const char *base_url;  /* NULL: DC_DEFAULT_BASE_URL; a missing final '/' is added */
    const char *api_key;   /* X-DC-DEVKEY; required */
    /* TLS trust, as session.h: ca_bundle, else $SSL_CERT_FILE, else $CURL_CA_BUNDLE, else
     * the system store. insecure skips verification; only an explicit flag sets it. */
    const char *ca_bundle;
    bool insecure;
    const char *user_agent; /* NULL: "certcli/VERSION" */
    long timeout_s;         /* per HTTP exchange; default 30 */
    int rate_retries;       /* retries of a 429; default 3 */
    long max_wait_s;        /* longest Retry-After honoured; a longer one fails; default 60 */
    uint64_t seed;          /* backoff jitter when a 429 has no Retry-After; 0: the OS */
};
void dc_opts_init(struct dc_opts *o); /* the defaults above, strings NULL */

/* The error envelope of A0. */
struct dc_error_item {
    char *code;    /* "not_found|order", "invalid_dns_txt", ...; never NULL */
    char *message; /* may be "" */
};
struct dc_error {
    long status;        /* the HTTP status */
    struct dc_error_item *items;
    size_t n;           /* 0 when the body was not an envelope (a proxy's HTML page) */
    long retry_after_s; /* -1 when none */
};
void dc_error_clear(struct dc_error *e); /* frees the items, zeroes e; NULL ok */
/* Parses an error answer's body (len bytes, need not be NUL-terminated) into *out: every
 * item of "errors" (an array, as the real API sends; the object form of some fixtures is
 * taken too) with a string code, at most DC_MAX_ERRORS, codes and messages cut at 256 and
 * 1024 bytes and made printable. A body that is no envelope gives n 0 and MC_OK. */
MC_MUST_CHECK enum mc_err dc_error_parse(long status, const char *body, size_t len,
                                         struct dc_error *out);
/* True if one of e's codes is code, or is code followed by "|qualifier" ("not_found"
 * matches "not_found|order"). */
bool dc_error_has(const struct dc_error *e, const char *code);

/* One response, body NUL-terminated; json parsed when the type was JSON. */
struct dc_resp {
    long status;
    char *body;
    size_t len;
    char *content_type;
    cJSON *json;
};
void dc_resp_free(struct dc_resp *r); /* NULL ok */

struct dc_client;

/* A new client (no request is made). MC_ERR_INVALID for a missing API key, a key with
 * control characters or over 256 bytes, or a base URL that is not http(s). */
MC_MUST_CHECK enum mc_err dc_new(const struct dc_opts *o, struct dc_client **out);
void dc_free(struct dc_client *c); /* NULL ok */
const char *dc_base_url(const struct dc_client *c); /* with its final '/' */

/* The error of the last call that returned MC_ERR_PROBLEM (status and items), else NULL.
 * Valid until the next call. */
const struct dc_error *dc_last_error(const struct dc_client *c);
/* One printable line about the last failure: "not_found|order: The specified order was
 * not found. (HTTP 404)", or the transport error. Never NULL. */
const char *dc_last_message(const struct dc_client *c);
/* Counters for tests: HTTP exchanges made and 429 waits. */
void dc_stats(const struct dc_client *c, uint64_t *requests, uint64_t *rate_waits);

/* The chokepoint: method ("GET", "POST", "PUT", "DELETE") on base_url + path (path has no
 * leading '/', may carry a query), body sent as JSON when not NULL (POST and PUT always
 * send Content-Type: application/json). A 2xx fills *out and returns MC_OK. A 429 is
 * waited out (Retry-After up to max_wait_s, else backoff) up to rate_retries times. Any
 * other status returns MC_ERR_PROBLEM with the envelope kept (dc_last_error) and *out
 * filled. MC_ERR_IO for transport errors, MC_ERR_TOO_BIG over DC_MAX_BODY, MC_ERR_INVALID
 * for JSON declared and not valid. *out is zeroed first; the caller dc_resp_frees it. */
MC_MUST_CHECK enum mc_err dc_request(struct dc_client *c, const char *method, const char *path,
                                     const cJSON *body, struct dc_resp *out);

/* True if s can go into a URL path as an id: 1..DC_MAX_ID of [A-Za-z0-9_.:-] (order and
 * certificate ids, serials, thumbprints, AuthKey ids), and not "." or "..". */
bool dc_id_ok(const char *s);

/* ---- orders (A1, A2, A3) -------------------------------------------------------------- */

struct dc_contact {
    const char *contact_type; /* "organization_contact", "technical_contact", ... */
    int64_t user_id;          /* > 0: an existing user, the fields below are not sent */
    const char *first_name, *last_name, *job_title, *telephone, *email;
};
struct dc_dcv_email {
    const char *dns_name, *email_domain, *email;
};
struct dc_custom_field {
    int64_t metadata_id;
    const char *value;
};
/* A validity: custom date > days > years (A1 precedence); all unset sends nothing. */
struct dc_validity {
    int years, days;                    /* 0: unset */
    const char *custom_expiration_date; /* "YYYY-MM-DD" or NULL */
};

/* Every request parameter of A1. Zero/NULL members are not sent. Booleans that default
 * to false on the server are sent only when true; the tri-state ints (-1 unset) are sent
 * as given. extra (may be NULL) is merged over the body last: any member the API has and
 * this struct lacks (an inline organization, for one). */
struct dc_order_req {
    const char *product;          /* product name id ("ssl_basic", "ssl_dv_geotrust"),
                                     or "ssl" with type_hint */
    const char *type_hint;        /* product.type_hint for "ssl": ov, ev, dv, private */
    /* certificate{} */
    const char *common_name;
    const char *const *dns_names;
    size_t n_dns_names;
    const char *csr;              /* PEM */
    const char *signature_hash;   /* sha256, sha384, sha512 */
    int64_t server_platform_id;   /* 0: not sent; -1 is OTHER */
    const char *const *organization_units;
    size_t n_organization_units;
    int64_t ca_cert_id;           /* 0: not sent */
    const char *ca_cert_id_str;   /* the string form some accounts have (wins over the int) */
    struct dc_validity cert_validity;
    const char *profile_option;
    /* organization{} */
    int64_t organization_id;
    const struct dc_contact *contacts;
    size_t n_contacts;
    /* order-level */
    struct dc_validity validity;       /* validity_years, validity_days, custom_expiration_date */
    struct dc_validity order_validity; /* order_validity{} (Multi-year Plans) */
    const char *dcv_method;       /* email, dns-txt-token, dns-cname-token, http-token,
                                     http-token-dynamic */
    const struct dc_dcv_email *dcv_emails;
    size_t n_dcv_emails;
    bool use_auth_key;
    const char *auth_key_id;
    bool skip_approval;
    const char *comments;
    int64_t container_id;
    const struct dc_custom_field *custom_fields;
    size_t n_custom_fields;
    const char *payment_method;   /* balance, card, profile */
    int auto_renew;               /* -1 unset, else 0/1 */
    const char *custom_renewal_message;
    int disable_renewal_notifications; /* -1 unset, else 0/1 (sent as a boolean) */
    int disable_ct;                    /* -1 unset, else 0/1 (sent as a boolean) */
    const char *locale;
    int64_t renewal_of_order_id;
    const struct dc_contact *technical_contact; /* DV: an inline contact, or NULL */
    const char *const *additional_emails;
    size_t n_additional_emails;
    const cJSON *extra;
};
/* Defaults: everything unset (auto_renew, disable_* -1). */
void dc_order_req_init(struct dc_order_req *r);
/* The JSON body of r (new object). MC_ERR_INVALID when product, common_name or csr is
 * missing, a name is empty, a count is over DC_MAX_NAMES, or a validity date is not
 * YYYY-MM-DD. */
MC_MUST_CHECK enum mc_err dc_order_body(const struct dc_order_req *r, cJSON **out);

/* What placing an order or a reissue answers (A1, A8). */
struct dc_chain_cert {
    char *subject_common_name;
    char *pem;
};
struct dc_placed {
    int64_t id;                /* the order id */
    int64_t certificate_id;    /* 0 when absent */
    int64_t request_id;        /* requests[0].id, 0 when absent */
    char *request_status;      /* requests[0].status, NULL when absent */
    char *dcv_random_value;    /* NULL when absent */
    struct dc_chain_cert *chain; /* certificate_chain: leaf, intermediate, root */
    size_t n_chain;
    cJSON *json;               /* the whole answer */
};
void dc_placed_free(struct dc_placed *p); /* NULL ok */
/* The chain as one PEM text: each certificate's PEM with "\r\n" made "\n", a newline
 * between them (new string). MC_ERR_NOT_FOUND when there is no chain. */
MC_MUST_CHECK enum mc_err dc_placed_chain_pem(const struct dc_placed *p, char **out);

/* POST order/certificate/{product}: 201 with the answer in *out. */
MC_MUST_CHECK enum mc_err dc_order_place(struct dc_client *c, const struct dc_order_req *r,
                                         struct dc_placed *out);
/* GET order/certificate/{id}[?include_caa_status=true] (A2): *out is the order. */
MC_MUST_CHECK enum mc_err dc_order_info(struct dc_client *c, const char *id, bool include_caa,
                                        cJSON **out);

/* List filters and paging (A2); NULL/0 members are not sent. */
struct dc_list_opts {
    const char *status, *common_name, *product_name_id, *date_created;
    long limit;   /* 0: the server's default; at most 1000 */
    long offset;
    const char *sort; /* "-date_created", "order_id" */
};
/* GET order/certificate?filters[...]... (values URL-encoded): *out is {"orders", "page"}. */
MC_MUST_CHECK enum mc_err dc_order_list(struct dc_client *c, const struct dc_list_opts *o,
                                        cJSON **out);
/* PUT order/certificate/{id}/status {"status", "note"} (A3), 204. status NULL: "canceled".
 * note is required by the API for a cancellation; NULL sends a default. */
MC_MUST_CHECK enum mc_err dc_order_status(struct dc_client *c, const char *id,
                                          const char *status, const char *note);
/* GET order/certificate/{id}/validation (A2): *out is the validation status. */
MC_MUST_CHECK enum mc_err dc_order_validation(struct dc_client *c, const char *id, cJSON **out);

/* The order's names: certificate.common_name then certificate.dns_names, duplicates
 * dropped, each lowercase (new array of new strings; free with dc_strv_free). */
MC_MUST_CHECK enum mc_err dc_order_names(const cJSON *order, char ***names, size_t *n);
void dc_strv_free(char **v, size_t n);

/* ---- domain control validation (A4) --------------------------------------------------- */

/* PUT order/certificate/{id}/dcv-random-value: the value (new) and its expiry (new, may
 * be NULL). */
MC_MUST_CHECK enum mc_err dc_dcv_random_value(struct dc_client *c, const char *id, char **value,
                                              char **expires);
/* PUT order/certificate/{id}/check-dcv, for the names given (n 0: all). *out is the
 * answer ({"order_status","certificate_id","dcv_status","dns_name_validations"}); a name
 * not yet validated is MC_ERR_PROBLEM with invalid_dns_txt / file_random_value_not_found. */
MC_MUST_CHECK enum mc_err dc_check_dcv(struct dc_client *c, const char *id,
                                       const char *const *names, size_t n, cJSON **out);
/* PUT order/certificate/{id}/dcv-method: for a token method *value is the new random
 * value; for email (204) *value is NULL. */
MC_MUST_CHECK enum mc_err dc_dcv_method(struct dc_client *c, const char *id, const char *method,
                                        char **value);
/* PUT order/certificate/{id}/resend-emails {"domain_approval_emails", "locale"}. */
MC_MUST_CHECK enum mc_err dc_resend_emails(struct dc_client *c, const char *id,
                                           const struct dc_dcv_email *emails, size_t n,
                                           const char *locale);

/* Where a DCV value (random value or request token) goes for one name, and the hooks
 * that put it there. method: "dns-txt-token" (TXT at fqdn = "_dnsauth.<name>" or the name
 * itself) or "http-token" (url_path "/.well-known/pki-validation/fileauth.txt" on name).
 * The callbacks are the caller's (certcli wires its solvers in); any may be NULL. */
struct dc_placer {
    void *arg;
    enum mc_err (*txt_present)(void *arg, const char *fqdn, const char *value);
    enum mc_err (*txt_wait)(void *arg, const char *fqdn, const char *value);
    enum mc_err (*txt_cleanup)(void *arg, const char *fqdn, const char *value);
    enum mc_err (*file_present)(void *arg, const char *name, const char *url_path,
                                const char *content);
    enum mc_err (*file_cleanup)(void *arg, const char *name, const char *url_path);
    bool txt_at_name; /* TXT at the name itself rather than at _dnsauth.<name> */
    /* dns-cname-token: fqdn "_dnsauth.<name>", target "<value>.dcv.digicert.com". */
    enum mc_err (*cname_present)(void *arg, const char *fqdn, const char *target);
    enum mc_err (*cname_cleanup)(void *arg, const char *fqdn, const char *target);
};
#define DC_FILEAUTH_PATH "/.well-known/pki-validation/fileauth.txt"
#define DC_CNAME_SUFFIX "dcv.digicert.com"
/* Places value for every name with method through p (wildcards at their base name; a
 * wildcard with http-token is MC_ERR_UNSUPPORTED): dns-txt-token a TXT (then waits for
 * the records with txt_wait), dns-cname-token the CNAME "_dnsauth.<name>" ->
 * "<value>.dcv.digicert.com" (A4), http-token fileauth.txt. On failure what was placed is
 * taken away again. MC_ERR_UNSUPPORTED for email and http-token-dynamic or a missing
 * callback. */
MC_MUST_CHECK enum mc_err dc_place(const struct dc_placer *p, const char *method,
                                   char *const *names, size_t n, const char *value);
/* Takes away what dc_place put there; every name is tried, the first failure returned. */
MC_MUST_CHECK enum mc_err dc_unplace(const struct dc_placer *p, const char *method,
                                     char *const *names, size_t n, const char *value);

/* ---- status changes (A6) -------------------------------------------------------------- */

/* GET order/certificate/status-changes?minutes=&seconds= (each sent when > 0; their sum
 * at most 7 days): *out is {"orders":[...]} or {}. */
MC_MUST_CHECK enum mc_err dc_status_changes(struct dc_client *c, long minutes, long seconds,
                                            cJSON **out);

struct dc_watch {
    const char *want;   /* the status waited for; NULL: "issued" */
    long interval_ms;   /* between polls; 0: 2000 */
    long timeout_s;     /* the whole wait; 0: 300 */
    bool progress;      /* a line on stderr per poll when stderr is a terminal */
};
/* Waits for order id to reach w->want: asks the order's status once (it may be there
 * already), then polls status-changes with a window of seconds covering the time since the
 * watch began, until an entry for the order shows want. *status gets the last status seen
 * (new), *certificate_id the certificate id (0 when unknown). MC_ERR_STATE when the order
 * reaches a final status that is not want (rejected, canceled, revoked, expired),
 * MC_ERR_TIMEOUT when time runs out; bounded in rounds too. */
MC_MUST_CHECK enum mc_err dc_watch_order(struct dc_client *c, const char *id,
                                         const struct dc_watch *w, char **status,
                                         int64_t *certificate_id);

/* ---- downloads (A7) ------------------------------------------------------------------- */

/* True if fmt is one of the formats of A7: default, apache, default_cer, cer, p7b,
 * default_pem, pem_all, pem_noroot, pem_nointermediate. */
bool dc_format_ok(const char *fmt);
/* Downloads a certificate to path (atomically, mode 0644): by certificate id
 * (certificate/{id}/download/format/{fmt}) or, when by_order, by order id
 * (certificate/download/order/{id}/format/{fmt}); fmt NULL: the zip of "default" without
 * /format (by order) or format default (by certificate); fmt "platform" uses
 * /download/platform. *ctype (new, may be NULL when the server sent none) and *len tell
 * what came; either may be NULL. */
MC_MUST_CHECK enum mc_err dc_download(struct dc_client *c, const char *id, bool by_order,
                                      const char *fmt, const char *path, char **ctype,
                                      size_t *len);
/* GET certificate/{id}/chain: *out is {"intermediates":[...]} (leaf first). */
MC_MUST_CHECK enum mc_err dc_chain(struct dc_client *c, const char *cert_id, cJSON **out);

/* ---- reissue, revoke, requests (A8, A9) ----------------------------------------------- */

struct dc_reissue_req {
    const char *common_name;
    const char *const *dns_names;
    size_t n_dns_names;
    const char *csr;
    const char *signature_hash;
    int64_t server_platform_id; /* 0: not sent */
    int64_t ca_cert_id;         /* 0: not sent */
    const char *dcv_method;     /* NULL: not sent */
    bool skip_approval;
    const char *comments;
};
/* POST order/certificate/{id}/reissue: 201 with the answer in *out. */
MC_MUST_CHECK enum mc_err dc_reissue(struct dc_client *c, const char *id,
                                     const struct dc_reissue_req *r, struct dc_placed *out);

struct dc_revoked {
    bool pending;        /* 201: a request waits for approval; false: 204, revoked */
    int64_t request_id;  /* when pending */
    char *status;        /* the request's status, when pending (new) */
};
void dc_revoked_free(struct dc_revoked *r); /* NULL ok */
/* PUT certificate/{id}/revoke, or order/certificate/{id}/revoke when by_order, with
 * {"comments", "revocation_reason", "skip_approval"} (NULL/false not sent). */
MC_MUST_CHECK enum mc_err dc_revoke(struct dc_client *c, const char *id, bool by_order,
                                    const char *comments, const char *reason,
                                    bool skip_approval, struct dc_revoked *out);
/* PUT request/{id}/status {"status", "processor_comment"}: "approved" or "rejected"
 * (or "pending", "submitted"), 204. */
MC_MUST_CHECK enum mc_err dc_request_status(struct dc_client *c, const char *request_id,
                                            const char *status, const char *comment);
/* GET request/{id}: *out is the request. */
MC_MUST_CHECK enum mc_err dc_request_info(struct dc_client *c, const char *request_id,
                                          cJSON **out);

/* POST order/certificate/{id}/duplicate (A0: 201; request type "duplicate"): another
 * certificate for names of an issued order, with r's CSR; the body is a reissue's. */
MC_MUST_CHECK enum mc_err dc_duplicate(struct dc_client *c, const char *id,
                                       const struct dc_reissue_req *r, struct dc_placed *out);
/* GET request?filters[status]=&filters[type]= (NULL: not sent): *out is
 * {"requests":[...],"page"}. */
MC_MUST_CHECK enum mc_err dc_request_list(struct dc_client *c, const char *status,
                                          const char *type, cJSON **out);

/* ---- organizations and domains (A5, A4 f-j) ------------------------------------------- */

/* A new organization; name, address, city and country are required. */
struct dc_org_req {
    const char *name, *assumed_name, *address, *address2, *city, *state, *zip, *country,
        *telephone;
    const char *contact_first_name, *contact_last_name, *contact_email; /* email NULL: none */
};
/* POST organization: *id is the new organization's id. MC_ERR_INVALID for a missing
 * required member or an answer without an id. */
MC_MUST_CHECK enum mc_err dc_org_create(struct dc_client *c, const struct dc_org_req *r,
                                        int64_t *id);
/* GET organization: *out is {"organizations":[...],"page"}. */
MC_MUST_CHECK enum mc_err dc_org_list(struct dc_client *c, cJSON **out);
/* GET organization/{id}: *out is the organization. */
MC_MUST_CHECK enum mc_err dc_org_info(struct dc_client *c, const char *id, cJSON **out);
/* GET organization/{id}/validation (A5): *out is {"validations":[...]}. */
MC_MUST_CHECK enum mc_err dc_org_validation(struct dc_client *c, const char *id, cJSON **out);
/* POST organization/{id}/validation {"validations":[{"type"}...]} for the n (1..8) types
 * ("ov", "ev"); 204. */
MC_MUST_CHECK enum mc_err dc_org_validation_submit(struct dc_client *c, const char *id,
                                                   const char *const *types, size_t n);
/* GET domain[?filters[search]=]: *out is {"domains":[...],"page"}. */
MC_MUST_CHECK enum mc_err dc_domain_list(struct dc_client *c, const char *search, cJSON **out);
/* GET domain/{id}?include_dcv=true&include_validation=true (A4 j). */
MC_MUST_CHECK enum mc_err dc_domain_info(struct dc_client *c, const char *id, cJSON **out);
/* POST domain {"name","organization":{"id"},"validations":[{"type":"ov"}],"dcv_method"}
 * (method NULL: not sent, the server's default): *out is {"id"[,"dcv_token"]}. */
MC_MUST_CHECK enum mc_err dc_domain_create(struct dc_client *c, const char *name, int64_t org_id,
                                           const char *method, cJSON **out);
/* PUT domain/{id}/dcv/validate-token (A4 f): *out is {"status":"active"[,"token"]}; a
 * value not found is MC_ERR_PROBLEM (invalid_dns_txt, file_random_value_not_found). */
MC_MUST_CHECK enum mc_err dc_domain_validate(struct dc_client *c, const char *id, cJSON **out);
/* POST domain/{id}/dcv/token (A4 g): *out is {"token","expiration_date"[,"http_token_url"]}. */
MC_MUST_CHECK enum mc_err dc_domain_token(struct dc_client *c, const char *id, cJSON **out);
/* PUT domain/{id}/dcv/method {"dcv_method"} (A4 h): *out is the answer ({} when unchanged). */
MC_MUST_CHECK enum mc_err dc_domain_method(struct dc_client *c, const char *id,
                                           const char *method, cJSON **out);

/* ---- AuthKeys and request tokens (A10) ------------------------------------------------ */

struct dc_authkey {
    char *id, *key;
    char *expiration; /* NULL for a key without a TTL */
};
void dc_authkey_free(struct dc_authkey *k); /* NULL ok */
/* POST account/auth-key[/{days}] (days 0: no TTL). */
MC_MUST_CHECK enum mc_err dc_authkey_create(struct dc_client *c, long days,
                                            struct dc_authkey *out);
/* GET account/auth-key[/{id}] (id NULL: the account's one key). */
MC_MUST_CHECK enum mc_err dc_authkey_show(struct dc_client *c, const char *id,
                                          struct dc_authkey *out);
/* GET account/auth-keys: *out is the answer. */
MC_MUST_CHECK enum mc_err dc_authkey_list(struct dc_client *c, cJSON **out);
/* DELETE account/auth-key[/{id}]: voids every request token made with it. */
MC_MUST_CHECK enum mc_err dc_authkey_delete(struct dc_client *c, const char *id);

/* base36 (0-9a-z) of the 256-bit big-endian number mac, left-padded with '0' to 50
 * characters (36^50 > 2^256, so it always fits) and a NUL. */
void dc_base36(const uint8_t mac[32], char out[51]);
/* "yyyyMMddHHmmss" of Unix seconds t in UTC, into ts. */
void dc_timestamp(int64_t t, char ts[15]);
/* The request token (A10): ts + base36(HMAC-SHA256(key = auth_key, msg = ts + csr)), 64
 * characters and a NUL in out. MC_ERR_INVALID when ts is not 14 digits or an input is
 * NULL, MC_ERR_CRYPTO when OpenSSL fails. */
MC_MUST_CHECK enum mc_err dc_request_token(const char *auth_key, const char *ts,
                                           const char *csr, char out[DC_TOKEN_LEN + 1]);

/* Instant DV issuance (seed 004) in one call: the request token for r->csr is computed
 * with auth_key (NULL: fetched with dc_authkey_show) and timestamp now (Unix seconds; 0:
 * the current time), placed for every name of the order with r->dcv_method (NULL:
 * "dns-txt-token"; "http-token" for fileauth.txt) through p, the order placed with
 * use_auth_key, and the token taken away again whatever happened. When the answer has a
 * certificate_chain it is written to chain_path (when not NULL, atomically, 0644) and
 * *issued is true; when the API fell back to a pending order (a stale, missing or wrong
 * token), *issued is false and out still holds the order (its dcv_random_value too). */
MC_MUST_CHECK enum mc_err dc_instant_dv(struct dc_client *c, const struct dc_order_req *r,
                                        const char *auth_key, int64_t now,
                                        const struct dc_placer *p, const char *chain_path,
                                        struct dc_placed *out, bool *issued);

#endif
