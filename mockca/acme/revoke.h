/* revoke.h: certificate revocation (RFC 8555 section 7.6) and the CA's status endpoints
 * that issued leaves point at: the OCSP responder (RFC 6960, GET and POST), the CRL
 * (RFC 5280) and the issuing intermediate (the AIA caIssuers URL). Handlers for wfe.c's
 * route table; ctx is the struct mockca. */
#ifndef MOCKCA_ACME_REVOKE_H
#define MOCKCA_ACME_REVOKE_H

#include "common/http.h"

#define REVOKE_CERT_MAX_B64 (16 * 1024) /* a leaf with 100 names and an RSA-8192 key fits */
#define REVOKE_OCSP_GET_MAX 4096        /* base64 of a GET request (RFC 6960 A.1: < 255 bytes) */

/* POST /revoke-cert, signed by kid or jwk, payload {"certificate": base64url DER,
 * "reason": optional integer}. Authorized when (kid) the account ordered the certificate
 * or holds valid authorizations for every identifier in it, or (jwk) the key is the
 * certificate's. 200 with an empty body. Refusals: malformed (400) for a certificate that
 * does not decode or parse, malformed 404 for one this CA did not issue (its signature
 * does not verify under our issuer, or the registry does not know it), badRevocationReason
 * for a reason that is not an integer in 0..10 other than 7, unauthorized (403),
 * alreadyRevoked (400). */
void revoke_cert(void *ctx, const struct http_request *req, struct http_response *resp);

/* GET /ocsp/<base64 DER OCSPRequest> (RFC 6960 appendix A.1: standard base64, URL-encoded;
 * the layer hands the decoded path) and POST /ocsp with Content-Type
 * application/ocsp-request (415 otherwise): 200 application/ocsp-response from
 * ca_ocsp_respond. A request that does not decode gets a malformedRequest OCSP response. */
void revoke_ocsp_get(void *ctx, const struct http_request *req, struct http_response *resp);
void revoke_ocsp_post(void *ctx, const struct http_request *req, struct http_response *resp);

/* GET /crl: the current CRL, DER, application/pkix-crl. */
void revoke_crl(void *ctx, const struct http_request *req, struct http_response *resp);

/* GET /issuer-cert: the issuing intermediate (chain 0), DER, application/pkix-cert. */
void revoke_issuer(void *ctx, const struct http_request *req, struct http_response *resp);

#endif
