/* renew.h: when to renew. A certificate is due when a third of its lifetime remains (half
 * when the lifetime is 10 days or less, as certbot and lego do for short-lived
 * certificates), or within `days` of its expiry when the user gave --days; and earlier when
 * the CA's ACME Renewal Information (RFC 9773) suggests a window that has begun. The ARI
 * Retry-After is kept between runs in the lineage metadata (lineage.h) so that a cron job
 * does not ask more often than the CA wants. */
#ifndef CERTCLI_RENEW_H
#define CERTCLI_RENEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "client/session.h"

struct ari_window {
    int64_t start, end;          /* suggestedWindow, Unix seconds; 0 when unknown */
    char *explanation_url;       /* may be NULL */
    int64_t next_check;          /* now + Retry-After (RFC 9773 section 4.3); 0: unknown */
};
void ari_window_free(struct ari_window *w); /* frees the URL, zeroes w; NULL ok */

/* Why a certificate is (not) due. */
enum renew_reason {
    RENEW_NOT_DUE = 0,
    RENEW_LIFETIME,              /* a third (or half) of the lifetime left */
    RENEW_DAYS,                  /* within --days of expiry */
    RENEW_ARI,                   /* the ARI window has begun */
    RENEW_EXPIRED,
};
const char *renew_reason_name(enum renew_reason r); /* "not-due", "lifetime", ... */

/* Decides for a certificate valid [not_before, not_after] at now. days > 0 replaces the
 * lifetime rule by "within days of expiry". w (may be NULL or zeroed) is the ARI window:
 * due when now >= w->start; a window that starts after the lifetime point moves nothing
 * earlier but never later either (ARI can only bring renewal forward, and a lifetime rule
 * still protects against a CA that stops answering). *due_at gets the time the
 * certificate becomes due (for "nothing to do until ..."). */
enum renew_reason renew_due(int64_t not_before, int64_t not_after, int64_t now, int days,
                            const struct ari_window *w, int64_t *due_at);

/* Fetches renewalInfo for cert (GET directory.renewalInfo/<ari id>), validates the window
 * (start < end, both RFC 3339) and fills *out; next_check from Retry-After (either form),
 * or now + 6 hours when absent, clamped to [60 s, 7 days]. MC_ERR_UNSUPPORTED when the
 * directory has no renewalInfo. */
MC_MUST_CHECK enum mc_err renew_fetch_ari(struct sess *s, X509 *cert, int64_t now,
                                          struct ari_window *out);

/* t as RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes; "" if t cannot be
 * shown); wire_rfc3339 (wire.h) reads it back. Returns buf. */
const char *renew_format_rfc3339(int64_t t, char *buf, size_t n);

#endif
