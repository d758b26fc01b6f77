/* order.h: the ACME endpoints of the second slice: newOrder (RFC 8555 section 7.4, RFC 8738
 * IP identifiers, RFC 9773 "replaces", profiles), the order resource, pre-authorization
 * (newAuthz, section 7.4.1), authorizations (7.5, deactivation 7.5.2), challenges (7.5.1:
 * the response starts an asynchronous validation through the queue of vaq.h), finalize
 * (7.4) and certificate download (7.4.2, alternate chains). Each is an http_handler_fn whose
 * ctx is the struct mockca; wfe.c puts them in the route table. Every signed request goes
 * through wfe_check; every resource but newOrder/newAuthz answers only its own account
 * (unauthorized 403 for another). */
#ifndef MOCKCA_ACME_ORDER_H
#define MOCKCA_ACME_ORDER_H

#include "common/http.h"

/* POST /order-plz (kid): {"identifiers": [{type, value}...], "notBefore", "notAfter",
 * "profile", "replaces"}. 201 with Location /my-order/<id> and the order. malformed for a
 * missing or empty list, more than IDENT_MAX_COUNT identifiers, a wildcard not as the whole
 * leftmost label, an unparsable time, notAfter <= notBefore or a bad "replaces";
 * unsupportedIdentifier for a type other than dns and ip; rejectedIdentifier for a name
 * that is not a DNS name, or that the domainBlocklist holds (the name or a parent);
 * invalidProfile for a profile the config does not name (none: the first profile). */
void order_new(void *ctx, const struct http_request *req, struct http_response *resp);
/* POST /my-order/{id} (POST-as-GET by the owner): the order, with Retry-After while it is
 * processing. */
void order_get(void *ctx, const struct http_request *req, struct http_response *resp);
/* POST /new-authz (kid): {"identifier": {type, value}}, no wildcard. 201 with Location
 * /authZ/<id> and the authorization. */
void order_new_authz(void *ctx, const struct http_request *req, struct http_response *resp);
/* POST /authZ/{id} (owner): POST-as-GET answers it (Retry-After while pending);
 * {"status": "deactivated"} deactivates it (section 7.5.2); anything else is malformed. */
void order_authz(void *ctx, const struct http_request *req, struct http_response *resp);
/* POST /chalZ/{id} (owner): {} starts validation (challenge processing, answered with
 * Link rel="up" to its authorization and Retry-After); POST-as-GET, or {} to a challenge
 * already processing or final, answers it as it is. */
void order_challenge(void *ctx, const struct http_request *req, struct http_response *resp);
/* POST /finalize-order/{id} (owner): {"csr": base64url DER}. orderNotReady 403 unless the
 * order is ready; badCSR for a CSR that does not parse or verify, a key type we do not
 * take, the account's own key, SANs other than exactly the order's identifiers, or a CN
 * that is not one of them. Otherwise the order moves to processing and a worker of
 * issueq.h signs it (valid, or invalid with serverInternal): 200 with the processing order,
 * its Location and Retry-After (retryAfter.order); the client polls the order. */
void order_finalize(void *ctx, const struct http_request *req, struct http_response *resp);
/* POST /certZ/{serial} (POST-as-GET by the owner): chain 0 as
 * application/pem-certificate-chain, with `Link: <.../alternate/N>;rel="alternate"` for
 * every other chain. */
void order_cert(void *ctx, const struct http_request *req, struct http_response *resp);
/* POST /certZ/{serial}/alternate/{N}: chain N, as order_cert. */
void order_cert_alternate(void *ctx, const struct http_request *req, struct http_response *resp);

#endif
