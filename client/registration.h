/* registration.h: ACME account operations (RFC 8555 section 7.3) over a session, and the
 * on-disk account store certcli keeps per server. Every call needs sess_set_account()
 * done first; calls after registration use the kid the session holds. */
#ifndef CERTCLI_REGISTRATION_H
#define CERTCLI_REGISTRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "client/session.h"
#include "common/jose.h"

struct reg_new {
    const char *const *contacts;  /* "mailto:..." URLs; may be NULL with n_contacts 0 */
    size_t n_contacts;
    bool agree_tos;               /* termsOfServiceAgreed */
    bool only_existing;           /* onlyReturnExisting: find the account of the key */
    /* External Account Binding (section 7.3.4): set eab_kid to use it. */
    const char *eab_kid;
    const uint8_t *eab_hmac;      /* the decoded MAC key */
    size_t eab_hmac_len;
    enum jose_alg eab_alg;        /* JOSE_ALG_HS256 (default when 0), HS384 or HS512 */
};

/* newAccount with the session key (jwk). On 201 (created) or 200 (existing) sets the
 * session's kid from Location; *created says which (may be NULL); *account, when not NULL,
 * is the account object (caller deletes). MC_ERR_PROBLEM for refusals (accountDoesNotExist
 * with only_existing, externalAccountRequired, malformed...), MC_ERR_INVALID when a 2xx
 * comes without a valid Location. */
MC_MUST_CHECK enum mc_err reg_register(struct sess *s, const struct reg_new *req,
                                        bool *created, cJSON **account);
/* POST-as-GET of the account URL (section 7.3.3 note), the account object. */
MC_MUST_CHECK enum mc_err reg_fetch(struct sess *s, cJSON **account);
/* Replaces the contacts (section 7.3.2); n 0 clears them. */
MC_MUST_CHECK enum mc_err reg_update_contacts(struct sess *s,
                                               const char *const *contacts, size_t n,
                                               cJSON **account);
/* keyChange (section 7.3.5): the inner JWS signed by new_key carries {account, oldKey}.
 * On success the session key becomes new_key (a reference is taken). A 409 (another
 * account has new_key) is MC_ERR_PROBLEM with the problem kept, and the session keeps its
 * old key. */
MC_MUST_CHECK enum mc_err reg_rollover(struct sess *s, EVP_PKEY *new_key);
/* Deactivates the account (section 7.3.6); the server must answer status "deactivated",
 * else MC_ERR_INVALID. */
MC_MUST_CHECK enum mc_err reg_deactivate(struct sess *s);
/* The account's orders list (section 7.1.2.1), following Link rel="next" for at most
 * max_pages pages. *urls is a new array of new strings (reg_free_urls). */
MC_MUST_CHECK enum mc_err reg_orders(struct sess *s, size_t max_pages, char ***urls,
                                      size_t *n);
void reg_free_urls(char **urls, size_t n);

/* The account store: DIR/accounts/HOST_PORT/{account.key,account.json} where HOST_PORT
 * comes from the directory URL (characters outside [A-Za-z0-9.-] become '_'). account.json
 * holds {"url": kid, "directory": URL, "contact": [...]}; reg_store_save writes "url" (when
 * known) and "directory", and reg_store_load ignores a saved "url" whose "directory" differs
 * from directory_url (two directories on one host and port share the folder). HOST_PORT
 * spells out the scheme's default port ("acme.example_443"). */
/* Loads the key and kid saved for directory_url. MC_ERR_NOT_FOUND when none is saved;
 * *kid may come back NULL when only the key was saved. New objects. */
MC_MUST_CHECK enum mc_err reg_store_load(const char *dir, const char *directory_url,
                                          EVP_PKEY **key, char **kid);
/* Saves key (0600, atomically) and kid (may be NULL) for directory_url, creating the
 * folders (0700). */
MC_MUST_CHECK enum mc_err reg_store_save(const char *dir, const char *directory_url,
                                          EVP_PKEY *key, const char *kid);

#endif
