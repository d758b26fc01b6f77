/* account.h: the ACME endpoints of the first slice: the directory (RFC 8555 section 7.1.1),
 * newNonce (7.2), newAccount (7.3, with onlyReturnExisting, contacts checked as Pebble does
 * and External Account Binding, 7.3.4), the account resource (update 7.3.2, deactivation
 * 7.3.6), keyChange (7.3.5) and the orders list (7.1.2.1). Each is an http_handler_fn whose
 * ctx is the struct mockca; wfe.c puts them in the route table. Every signed request goes
 * through wfe_check. */
#ifndef MOCKCA_ACME_ACCOUNT_H
#define MOCKCA_ACME_ACCOUNT_H

#include "common/http.h"

/* Pebble's terms of service URL: certbot's --agree-tos and lego's --accept-tos need one. */
#define ACCOUNT_TOS_URL "data:text/plain,Do%20what%20thou%20wilt"
/* Pebble's maxContactsPerAcct: more is malformed. */
#define ACCOUNT_MAX_CONTACTS 2
#define ACCOUNT_CONTACT_MAX_LEN 320 /* a mailto: URL longer than this is invalidContact */

/* GET /dir: every resource URL and meta (termsOfService, caaIdentities,
 * externalAccountRequired, profiles from the config). */
void account_directory(void *ctx, const struct http_request *req, struct http_response *resp);
/* HEAD /nonce-plz: 200; GET /nonce-plz: 204 (section 7.2). The nonce itself is added by the
 * after hook, as on every response. */
void account_nonce(void *ctx, const struct http_request *req, struct http_response *resp);
/* POST /sign-me-up (jwk): the account for the key, 201 + Location when new, 200 + Location
 * when the key has one (unauthorized when that one is deactivated, as Pebble);
 * accountDoesNotExist for onlyReturnExisting without one; externalAccountRequired when
 * the config requires EAB and none came. */
void account_new(void *ctx, const struct http_request *req, struct http_response *resp);
/* POST /my-account/{id} (kid of that account, else unauthorized): POST-as-GET answers the
 * account; {"contact": [...]} replaces the contacts; {"status": "deactivated"}
 * deactivates; any other status is malformed. */
void account_update(void *ctx, const struct http_request *req, struct http_response *resp);
/* POST /rollover-account-key (kid): acme_check_keychange, then the new key; 409 with the
 * holder's URL in Location when an account (this one included) already holds it. */
void account_key_change(void *ctx, const struct http_request *req, struct http_response *resp);
/* POST /list-orderz/{id}[?cursor=N] (POST-as-GET by the owner): orders_per_page order URLs
 * from page N, Link rel="next" when more follow. */
void account_orders(void *ctx, const struct http_request *req, struct http_response *resp);

#endif
