/* cc_int.h: what the files of mockca/cc/ share: the store's objects, the request context
 * of a handler, and the helpers every handler uses. Not for use outside mockca/cc/. */
#ifndef MOCKCA_CC_INT_H
#define MOCKCA_CC_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/x509.h>

#include "mockca/cc/cc.h"
#include "mockca/ratelimit.h"

#define CC_DAY 86400
#define CC_RV_TTL (30 * CC_DAY)         /* random values and request tokens: 30 days */
#define CC_MAX_NAMES 100                /* common_name plus dns_names per order */
#define CC_MAX_CHANGES 20000            /* status-change records kept */
#define CC_MAX_EMAILS 10000             /* DCV emails kept */
#define CC_MAX_OBJS 100000              /* orgs, domains, keys, requests... */
#define CC_MAX_STR 1024                 /* any echoed string field */
#define CC_MAX_CSR 16384
#define CC_MAX_SEGS 12

enum cc_role { CC_ROLE_VIEWER = 1, CC_ROLE_USER, CC_ROLE_ADMIN };
enum cc_vt { CC_VT_DV = 1, CC_VT_OV, CC_VT_EV };

struct cc_product {
    const char *name_id;
    const char *name;
    enum cc_vt vt;
    bool wildcard; /* a wildcard product: the common name must be a wildcard */
};

struct cc_vec {
    void **v;
    size_t n, cap;
};

struct cc_apikey {
    char *key;
    enum cc_role role;
    int64_t account_id;
    int64_t user_id;
};

struct cc_org {
    int64_t id, account_id, created;
    cJSON *info;          /* name, assumed_name, address..., organization_contact */
    char ov[12], ev[12];  /* "pending" | "active" | "rejected" | "" (not requested) */
    int64_t ov_until, ev_until, ov_date, ev_date;
};

struct cc_domain {
    int64_t id, account_id, org_id, created;
    char *name;
    char method[24];
    char token[40];
    int64_t token_exp;
    bool approved;
    int64_t approved_at;
};

struct cc_name {
    char *name;           /* as ordered, may be "*.x" */
    bool approved;
    int64_t domain_id;    /* OV/EV: the account's domain object; DV: 0 */
    int64_t approved_at;
};

struct cc_cert {
    int64_t id, order_id, request_id, created, issued;
    char status[16];      /* pending | issued | rejected | revoked */
    char *cn;
    struct cc_vec names;  /* char*: dns_names (common name included, as ordered) */
    char *csr;
    char sig_hash[8];
    int64_t platform_id;
    X509 *leaf;
    char serial[80];      /* lowercase hex, as ca.h knows it */
    char thumb[44];       /* uppercase hex SHA-1 of the DER */
    int64_t not_before, not_after;
    int key_size;
    bool archived;
    bool duplicate;       /* a duplicate (A0): same order, another key; never the current */
};

struct cc_request {
    int64_t id, order_id, cert_id, account_id, date, processed, requester;
    char type[16];        /* new_request | reissue | revoke */
    char status[12];      /* pending | approved | rejected | submitted */
    char *comments;
    char *processor_comment;
    int reason;           /* revoke: ca_reason */
    bool whole_order;     /* revoke: every certificate of the order */
};

struct cc_order {
    int64_t id, account_id, user_id, created, updated;
    const struct cc_product *product;
    char status[20];
    char method[24];
    char rv[40];
    int64_t rv_exp;
    struct cc_vec names;  /* struct cc_name* */
    int64_t org_id;
    int64_t cert_id;      /* the current certificate (pending until first issuance) */
    int64_t reissue_cert_id; /* the pending reissue's certificate, 0 when none */
    int64_t request_id;   /* the new_request */
    int64_t valid_till;   /* order validity end (Unix seconds) */
    int64_t cert_secs;    /* requested certificate validity in seconds, 0: order's */
    int validity_years;
    cJSON *echo;          /* body fields echoed by order info (copied at placement) */
    int64_t renewal_of;
    bool is_renewed;
};

struct cc_change {
    int64_t at_ms, order_id, cert_id, account_id;
    char status[20];
};

struct cc_email {
    int64_t id, order_id, domain_id, at;
    char *name, *to;
};

struct cc_authkey {
    char id[24];
    char key[48];
    int64_t account_id, created, expires; /* expires 0: no TTL */
};

struct cc_eab {
    char kid[48];
    uint8_t hmac[32];
    char product[64];
    char *name;
    int64_t org_id, account_id, created;
    int vyears;
};

struct cc_server {
    pthread_mutex_t mu;
    struct ca *ca;
    struct mc_clock *clock;
    struct ratelimit *rl;
    char *dns_server;
    uint16_t http_port;
    int64_t dcv_timeout_ms;
    char *acme_dir;
    unsigned rs_limit, rl_limit;
    int64_t rs_win, rl_win;
    bool auto_approve;
    size_t max_orders;
    int64_t retention_s, max_cert_days;
    struct cc_vec keys, orgs, domains, orders, certs, requests, emails, authkeys, eabs;
    struct cc_change *changes; /* ring */
    size_t nchanges, changes_head;
    int64_t next_order, next_cert, next_req, next_dom, next_org, next_email;
};

/* One API call in progress. */
struct cc_ctx {
    struct cc_server *cc;
    const struct http_request *req;
    struct http_response *resp;
    const struct cc_apikey *key;
    const char *seg[CC_MAX_SEGS];
    size_t nseg;
    const char *arg[4];   /* the "{}" captures of the route, in order */
    cJSON *body;          /* the parsed body, or NULL when there was none */
    int64_t now;          /* seconds, read once at the start */
};

/* ---- cc.c: helpers -------------------------------------------------------------------- */
void cc_err(struct cc_ctx *c, int status, const char *code, const char *message);
void cc_send(struct cc_ctx *c, int status, cJSON *j); /* takes j (may be NULL: 500) */
void cc_no_content(struct cc_ctx *c);
void cc_bad_body(struct cc_ctx *c); /* 400 bad_request_format */
void cc_nomem(struct cc_ctx *c);
bool cc_need_body(struct cc_ctx *c); /* an object body is there, else 400 sent: false */
bool cc_parse_id(const char *s, int64_t *out);
const char *cc_iso(int64_t t, char *buf, size_t n);  /* "2014-08-19T18:16:07+00:00" */
const char *cc_date(int64_t t, char *buf, size_t n); /* "2014-08-19" */
bool cc_parse_date(const char *s, int64_t *out);     /* "yyyy-MM-dd" -> 00:00:00 UTC */
MC_MUST_CHECK enum mc_err cc_vec_push(struct cc_vec *v, void *p);
void cc_vec_remove(struct cc_vec *v, size_t i);
MC_MUST_CHECK enum mc_err cc_random_value(char *out, size_t len); /* base36, len chars */
char *cc_strdup_cap(const char *s); /* NULL for NULL or over CC_MAX_STR */
void cc_add_str(cJSON *o, const char *k, const char *v); /* v NULL: "" */
void cc_add_num(cJSON *o, const char *k, double v);
const struct cc_product *cc_product_find(const char *name_id);
size_t cc_products(const struct cc_product **out);
void cc_product_json(cJSON *o, const struct cc_product *p, bool full);
const char *cc_vt_name(enum cc_vt vt); /* "dv" "ov" "ev" */

/* Store lookups and updates (caller holds cc->mu). */
struct cc_order *cc_order_get(struct cc_server *cc, int64_t id, int64_t account);
struct cc_cert *cc_cert_get(struct cc_server *cc, int64_t id);
struct cc_request *cc_request_get(struct cc_server *cc, int64_t id);
struct cc_domain *cc_domain_get(struct cc_server *cc, int64_t id, int64_t account);
struct cc_org *cc_org_get(struct cc_server *cc, int64_t id, int64_t account);
/* Sets an order's status and records the change (for status-changes). */
void cc_order_set_status(struct cc_server *cc, struct cc_order *o, const char *status);
void cc_sweep(struct cc_server *cc, int64_t now);

/* ---- cc_order.c ----------------------------------------------------------------------- */
void cc_h_order_place(struct cc_ctx *c);
void cc_h_order_info(struct cc_ctx *c);
void cc_h_order_list(struct cc_ctx *c);
void cc_h_order_status(struct cc_ctx *c);
void cc_h_order_validation(struct cc_ctx *c);
void cc_h_status_changes(struct cc_ctx *c);
void cc_h_reissue(struct cc_ctx *c);
void cc_h_reissue_list(struct cc_ctx *c);
void cc_h_revoke_cert(struct cc_ctx *c);
void cc_h_revoke_order(struct cc_ctx *c);
void cc_h_request_info(struct cc_ctx *c);
void cc_h_request_status(struct cc_ctx *c);
void cc_h_org_info(struct cc_ctx *c);
void cc_h_org_validation(struct cc_ctx *c);
void cc_h_org_validation_submit(struct cc_ctx *c);
void cc_h_org_list(struct cc_ctx *c);
void cc_h_org_create(struct cc_ctx *c);
void cc_h_duplicate(struct cc_ctx *c);
void cc_h_duplicate_list(struct cc_ctx *c);
void cc_h_request_list(struct cc_ctx *c);
/* Paging of a list endpoint: ?limit (1..1000, default 1000) and ?offset (>= 0); false
 * with a 400 invalid_value:<name> sent when either is malformed. */
bool cc_paging(struct cc_ctx *c, int64_t *limit, int64_t *offset);
/* {"total","limit","offset"} added to j as "page". */
void cc_page_json(cJSON *j, size_t total, int64_t limit, int64_t offset);
/* An organization's JSON as order info and GET /organization show it (full: the address,
 * status and is_active too). */
void cc_org_json(cJSON *o, const struct cc_org *g, bool full);
/* Issues the order's pending certificate when approval, DCV and organization validation
 * are all done. Returns true when it issued. */
bool cc_order_try_issue(struct cc_server *cc, struct cc_order *o);
/* The order's names all approved (domain objects consulted for OV/EV)? */
bool cc_order_dcv_done(struct cc_server *cc, struct cc_order *o);
cJSON *cc_org_validations_json(const struct cc_org *org);
void cc_cert_free(struct cc_cert *x);
void cc_order_free(struct cc_order *o);

/* ---- cc_dcv.c ------------------------------------------------------------------------- */
bool cc_method_valid(const char *m);
bool cc_method_token(const char *m); /* dns-txt-token, dns-cname-token, http-token(-dynamic) */
/* Checks one name (wildcard stripped) for value by method, over the network. Call
 * without cc->mu held. why gets "invalid_dns_txt" / "file_random_value_not_found". */
bool cc_dcv_check(const struct cc_server *cc, const char *name, const char *method,
                  const char *const *values, size_t nvalues);
/* Fetches the TXT strings at name (and _dnsauth.name) and fileauth.txt of name, for the
 * AuthKey scan; *out is a new array of new strings (cc_strv_free). */
void cc_collect_texts(const struct cc_server *cc, const char *name, const char *method,
                      char ***out, size_t *n);
void cc_strv_free(char **v, size_t n);
void cc_h_check_dcv(struct cc_ctx *c);
void cc_h_order_rv(struct cc_ctx *c);
void cc_h_order_method(struct cc_ctx *c);
void cc_h_order_resend(struct cc_ctx *c);
void cc_h_order_approval_resend(struct cc_ctx *c);
void cc_h_domain_info(struct cc_ctx *c);
void cc_h_domain_validate(struct cc_ctx *c);
void cc_h_domain_token(struct cc_ctx *c);
void cc_h_domain_method(struct cc_ctx *c);
void cc_h_domain_emails(struct cc_ctx *c);
void cc_h_domain_list(struct cc_ctx *c);
void cc_h_domain_create(struct cc_ctx *c);
/* CAA (RFC 8659) for every name through mockca's VA, against DigiCert's CAA identifiers
 * (digicert.com and the brands it issues under). Call without cc->mu held. Returns the
 * index of the first name that forbids issuance, or n when all allow it. */
size_t cc_caa_check(const struct cc_server *cc, char *const *names, size_t n);
/* Records the DCV emails for name on order (the five constructed addresses, or `only`). */
void cc_send_emails(struct cc_server *cc, struct cc_order *o, int64_t domain_id,
                    const char *name, const char *only);
bool cc_name_covered(struct cc_server *cc, const struct cc_order *o, const struct cc_name *n);

/* ---- cc_dl.c -------------------------------------------------------------------------- */
void cc_h_download_cert(struct cc_ctx *c);
void cc_h_download_platform(struct cc_ctx *c);
void cc_h_download_order(struct cc_ctx *c);
void cc_h_chain(struct cc_ctx *c);
void cc_h_intermediates(struct cc_ctx *c);
/* certificate_chain: leaf, intermediates, root, as [{subject_common_name, pem}] with
 * CRLF line ends (A1). NULL when out of memory. */
cJSON *cc_chain_json(struct cc_server *cc, const struct cc_cert *x, bool crlf);

/* ---- cc_key.c ------------------------------------------------------------------------- */
void cc_h_authkey_create(struct cc_ctx *c);
void cc_h_authkey_get(struct cc_ctx *c);
void cc_h_authkey_list(struct cc_ctx *c);
void cc_h_authkey_delete(struct cc_ctx *c);
void cc_h_eab_create(struct cc_ctx *c);
/* Does any text hold a valid request token for csr under one of account's AuthKeys? */
bool cc_token_found(struct cc_server *cc, int64_t account, const char *csr, char **texts,
                    size_t ntexts, int64_t now);
bool cc_account_has_authkey(struct cc_server *cc, int64_t account, int64_t now);

#endif
