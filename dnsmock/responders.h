/* responders.h: challtestsrv's challenge responders. The http-01 responder serves
 * /.well-known/acme-challenge/<token> and redirects (plain HTTP); the tls-alpn-01
 * responder completes TLS handshakes that offer ALPN "acme-tls/1" with an RFC 8737
 * certificate for the SNI name (OpenSSL). A third serves the http-01 routes over TLS with
 * a self-signed certificate (challtestsrv's -https01). All record their requests in the history. */
#ifndef DNSMOCK_RESPONDERS_H
#define DNSMOCK_RESPONDERS_H

#include <stdint.h>

#include "common/err.h"
#include "common/http.h"

struct dnsmock;
struct chal_store;
struct tlsalpn_responder;

#define CHAL_MAX_ENTRIES 10000

/* The responders' data: tokens, redirects, tls-alpn-01 hosts. Thread-safe, bounded. */
struct chal_store *chal_store_new(void);
void chal_store_free(struct chal_store *cs); /* NULL ok */
void chal_store_clear(struct chal_store *cs);
/* token: base64url alphabet only (MC_ERR_INVALID otherwise); content: the key
 * authorization to serve. Setting a token again replaces its content. */
MC_MUST_CHECK enum mc_err chal_add_http01(struct chal_store *cs, const char *token,
                                          const char *content);
MC_MUST_CHECK enum mc_err chal_del_http01(struct chal_store *cs, const char *token);
/* path: begins with "/"; target: an absolute http(s) URL. */
MC_MUST_CHECK enum mc_err chal_add_redirect(struct chal_store *cs, const char *path,
                                            const char *target);
MC_MUST_CHECK enum mc_err chal_del_redirect(struct chal_store *cs, const char *path);
/* host: a DNS name or an IP; content: the key authorization. */
MC_MUST_CHECK enum mc_err chal_add_tlsalpn01(struct chal_store *cs, const char *host,
                                             const char *content);
MC_MUST_CHECK enum mc_err chal_del_tlsalpn01(struct chal_store *cs, const char *host);

/* Starts the http-01 responder on addr with the http layer. */
MC_MUST_CHECK enum mc_err http01_responder_start(struct dnsmock *d, const char *addr,
                                                 struct http_server **out);
/* Starts the http-01 responder over TLS (challtestsrv's -https01) on addr: the same tokens,
 * recorded in the history with HTTPS true; redirects are not served over TLS, as in
 * challtestsrv. cert_pem and key_pem are PEM text (copied). */
MC_MUST_CHECK enum mc_err https01_responder_start(struct dnsmock *d, const char *addr,
                                                  const char *cert_pem, const char *key_pem,
                                                  struct http_server **out);
/* Makes the self-signed certificate of dnsmock's TLS listeners (https01, DoH without a
 * configured certificate), as challtestsrv makes one for its HTTPS listener: a new P-256
 * key, subjectAltNames localhost, 127.0.0.1 and ::1, serverAuth, valid from an hour ago for
 * a year. *cert_pem and *key_pem (PKCS#8) are new strings (free()). */
MC_MUST_CHECK enum mc_err responder_selfsigned_pem(char **cert_pem, char **key_pem);
/* Starts the tls-alpn-01 responder on addr (its own accept thread, bounded handshakes). */
MC_MUST_CHECK enum mc_err tlsalpn_responder_start(struct dnsmock *d, const char *addr,
                                                  struct tlsalpn_responder **out);
uint16_t tlsalpn_responder_port(const struct tlsalpn_responder *r);
void tlsalpn_responder_stop(struct tlsalpn_responder *r); /* NULL ok */

#endif
