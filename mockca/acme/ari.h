/* ari.h: the renewalInfo resource of ACME Renewal Information (RFC 9773 section 4.2) and
 * the hook that sets a certificate's window (Pebble's management POST /set-renewal-info/).
 * The certificate identifier itself is common/ari.h's.
 *
 * The window, in this order of precedence:
 *   1. one set with ari_set_window;
 *   2. a revoked or expired certificate: "renew now", a window in the past
 *      [now - 1 h, now - 30 min], as Pebble's RenewalInfoImmediate;
 *   3. otherwise Pebble's RenewalInfoSimple: around the point two thirds into the validity
 *      (notAfter - validity / 3), 24 h either side, the end clamped to notAfter. For short
 *      validities (under 6 days) the half-width is validity / 6 instead, so the window never
 *      starts before the middle of the validity. */
#ifndef MOCKCA_ACME_ARI_H
#define MOCKCA_ACME_ARI_H

#include <stdint.h>

#include "common/err.h"
#include "common/http.h"

#define ARI_RETRY_AFTER_S (6 * 3600) /* how soon a client should ask again (section 4.3) */

struct mockca;

/* GET /renewal-info/<certID>: 200 {"suggestedWindow": {"start", "end"}, "explanationURL"
 * when set} (RFC 3339 times), with Retry-After. 400 malformed for an identifier that does
 * not parse (ari_parse_id), 404 malformed for a certificate this CA did not issue (an AKI
 * that is not our issuer's, or a serial the store does not hold). */
void ari_renewal_info(void *ctx, const struct http_request *req, struct http_response *resp);

/* Sets the suggested window of the certificate with serial_hex (lowercase hex, as
 * ca_issue writes it) to [start, end) (Unix seconds, start < end) with an optional
 * explanationURL (copied; NULL: none); start == end == 0 goes back to the default window.
 * MC_ERR_NOT_FOUND for a certificate the store does not hold, MC_ERR_INVALID for
 * end <= start. For the management API. */
MC_MUST_CHECK enum mc_err ari_set_window(struct mockca *m, const char *serial_hex, int64_t start,
                                         int64_t end, const char *explanation);

#endif
