/* solver_impl.h: the internals shared by the solver modules (solver.c dispatches, the
 * solver_*.c files implement one mechanism each). Not part of libcertcli's API.
 *
 * Every kind fills a struct solver_ops; solver.c owns the struct solver, a private copy of
 * the config (strings duplicated, so the caller's may go away), and calls the kind's
 * functions only with a context it has already validated (sv_ctx_check). */
#ifndef CERTCLI_SOLVER_IMPL_H
#define CERTCLI_SOLVER_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/solver.h"
#include "common/err.h"

#define SV_TOKEN_MAX 256    /* RFC 8555 tokens are 43 characters; a cap, not a norm */
#define SV_KEYAUTH_MAX 1024 /* token "." base64url(thumbprint): far shorter */
#define SV_NAME_MAX 253     /* a DNS name without the trailing dot */
#define SV_TABLE_MAX 4096   /* challenges one solver keeps present at once */
#define SV_ACCOUNT_URL_MAX 2048

struct solver;

struct solver_ops {
    /* Called only with a context that passed sv_ctx_check for a type the kind handles. */
    enum mc_err (*present)(struct solver *sv, const struct chall_ctx *c);
    enum mc_err (*cleanup)(struct solver *sv, const struct chall_ctx *c);
    /* Stops listeners and removes whatever is still present; frees sv->impl. */
    void (*destroy)(struct solver *sv);
};

/* The generic entry points (solver_txt_*, solver_file_*): a TXT record or a file that is no
 * ACME challenge (DigiCert's random values and request tokens). A kind that can do one
 * fills the matching pair; NULL members make the front answer MC_ERR_UNSUPPORTED. Called
 * only with arguments the front has validated (sv_fqdn_ok, sv_txt_value_ok,
 * sv_url_path_ok). */
struct solver_gen_ops {
    enum mc_err (*txt_present)(struct solver *sv, const char *fqdn, const char *value);
    enum mc_err (*txt_cleanup)(struct solver *sv, const char *fqdn, const char *value);
    enum mc_err (*file_present)(struct solver *sv, const char *url_path, const char *content);
    enum mc_err (*file_cleanup)(struct solver *sv, const char *url_path);
};

/* CNAME records (solver_cname_*: DigiCert's dns-cname-token), for the DNS kinds. Called
 * only with names that passed sv_fqdn_ok. */
struct solver_cname_ops {
    enum mc_err (*present)(struct solver *sv, const char *fqdn, const char *target);
    enum mc_err (*cleanup)(struct solver *sv, const char *fqdn, const char *target);
};

struct solver {
    const struct solver_ops *ops;
    struct solver_config cfg; /* strings are private copies (solver.c) */
    void *impl;               /* the kind's state */
    uint16_t port;            /* the bound port of a standalone kind */
    const struct solver_gen_ops *gen; /* NULL: no generic entry points */
    const struct solver_cname_ops *cname; /* NULL: no CNAME entry points */
};

/* True if s is 1..SV_TOKEN_MAX base64url characters (RFC 8555 section 8.1: a token is
 * base64url; anything else must not reach a file name, URL, DNS name or hook). */
bool sv_token_ok(const char *s);
/* True if s is a key authorization: 1..SV_KEYAUTH_MAX characters of base64url and '.'. */
bool sv_keyauth_ok(const char *s);
/* True if id is a DNS name of LDH labels (1..63 each, at most SV_NAME_MAX in all, no
 * trailing dot; a leading "*." is refused: callers strip it) or an IP literal. */
bool sv_ident_ok(const struct ident *id);
/* Checks what every kind relies on: type, identifier, token, key authorization, and for
 * dns-account-01 an account URL. MC_ERR_INVALID otherwise (logged). */
MC_MUST_CHECK enum mc_err sv_ctx_check(const struct chall_ctx *c);
/* The DNS name an identifier stands for without a leading "*." (RFC 8555 section 8.4:
 * the challenge for a wildcard is at the base name). Returns a pointer into id->value. */
const char *sv_base_name(const struct ident *id);

#define SV_FILE_PATH_MAX 256 /* a url_path of solver_file_present */
#define SV_FILE_MAX 4096     /* a file's content (fileauth.txt holds one token) */
#define SV_TXT_VALUE_MAX 255 /* one TXT character-string */

/* True if p is a path under "/.well-known/": "/.well-known/" then 1..4 segments of
 * [A-Za-z0-9._-], none empty, none starting with '.', at most SV_FILE_PATH_MAX bytes (so
 * that it is safe as a file name under a webroot and as a route). */
bool sv_url_path_ok(const char *p);
/* True if s is 1..SV_FILE_MAX bytes of printable ASCII, tabs and newlines (what a
 * fileauth.txt holds; nothing a web server would mangle). */
bool sv_file_content_ok(const char *s);

/* True if s is a DNS name for solver_txt_*: labels of letters, digits, '-' and '_' (1..63
 * each, at most SV_NAME_MAX in all), an optional final '.'. */
bool sv_fqdn_ok(const char *s);
/* True if s is 1..SV_TXT_VALUE_MAX characters of [A-Za-z0-9._~+/=-]. */
bool sv_txt_value_ok(const char *s);

/* Constructors, one per kind (solver_http.c, solver_alpn.c, solver_dns.c). Each sets
 * sv->ops and sv->impl (and sv->port for the standalone kinds). */
MC_MUST_CHECK enum mc_err sv_http_standalone_init(struct solver *sv);
MC_MUST_CHECK enum mc_err sv_http_webroot_init(struct solver *sv);
MC_MUST_CHECK enum mc_err sv_alpn_init(struct solver *sv);
MC_MUST_CHECK enum mc_err sv_dns_mgmt_init(struct solver *sv);
MC_MUST_CHECK enum mc_err sv_dns_rfc2136_init(struct solver *sv);
MC_MUST_CHECK enum mc_err sv_dns_hook_init(struct solver *sv);

/* A thread-safe table of present challenges, keyed by a string (token, SNI name or
 * FQDN+value), each holding a string value and an optional opaque pointer freed by the
 * table's free function. Shared by the kinds that must remember what they presented.
 * At most SV_TABLE_MAX entries. */
struct sv_table;
MC_MUST_CHECK enum mc_err sv_table_new(void (*free_data)(void *), struct sv_table **out);
void sv_table_free(struct sv_table *t); /* frees every entry; NULL ok */
/* Adds or replaces key. data (may be NULL) is owned by the table from here on, even on
 * failure. MC_ERR_LIMIT when full. */
MC_MUST_CHECK enum mc_err sv_table_put(struct sv_table *t, const char *key, const char *value,
                                       void *data);
/* Removes key; false when it was absent (a cleanup after a failed present: fine). */
bool sv_table_del(struct sv_table *t, const char *key);
/* Copies key's value into a new string *out (caller frees). MC_ERR_NOT_FOUND if absent. */
MC_MUST_CHECK enum mc_err sv_table_get(struct sv_table *t, const char *key, char **out);
/* Calls fn(arg, key, value, data) for key under the table's lock; false when absent.
 * fn must not call back into the table. */
bool sv_table_with(struct sv_table *t, const char *key,
                   void (*fn)(void *arg, const char *key, const char *value, void *data),
                   void *arg);
size_t sv_table_count(struct sv_table *t);
/* Calls fn(arg, key, value, data) for every entry under the table's lock; fn must not
 * call back into the table. */
void sv_table_each(struct sv_table *t,
                   void (*fn)(void *arg, const char *key, const char *value, void *data),
                   void *arg);
/* Takes some entry out of the table: *key, *value (new strings) and *data (now the
 * caller's). false when the table is empty. For a destroy that undoes what is left. */
bool sv_table_pop(struct sv_table *t, char **key, char **value, void **data);

#endif
