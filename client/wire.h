/* wire.h: validation of values a server sends before the client uses them. An ACME
 * server is a peer, not a trusted party: a token reaches file names and hooks, a URL
 * reaches the next request, a status drives a state machine, a timestamp decides renewal.
 * Each check here is strict and total (any byte string gives an answer, never a crash). */
#ifndef CERTCLI_WIRE_H
#define CERTCLI_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define WIRE_MAX_TOKEN 256
#define WIRE_MAX_URL 2048

/* A challenge token (RFC 8555 sections 8.1, 8.3): 1..WIRE_MAX_TOKEN characters of the
 * base64url alphabet, nothing else (no '.', '/', padding or NUL). MC_ERR_INVALID
 * otherwise (NULL included), MC_ERR_TOO_BIG when longer than the cap. */
MC_MUST_CHECK enum mc_err wire_check_token(const char *s);

/* A URL the server hands us (directory entries, Location, Link, object URLs): scheme
 * http or https (case-insensitive), "://", a non-empty host (a name, an IPv4 address or a
 * bracketed IPv6 literal), an optional port 1..65535, then an optional path, query or
 * fragment; no userinfo, no byte <= 0x20, 0x7f or >= 0x80 anywhere. MC_ERR_TOO_BIG
 * above WIRE_MAX_URL bytes, MC_ERR_INVALID otherwise (NULL included). */
MC_MUST_CHECK enum mc_err wire_check_url(const char *s);

/* Resolves ref, a URI-reference from a Location (RFC 9110 section 10.2.2) or Link (RFC
 * 8288 section 3.2) header, against base, the URL the request went to, per RFC 3986
 * section 5.2 (libcurl's URL API does the merge and the dot segments), then holds the
 * result to wire_check_url. An absolute http(s) ref is taken byte for byte, so an account
 * URL the server sends stays the kid it compares against. ref is refused before any
 * parsing when it is empty, longer than WIRE_MAX_URL (MC_ERR_TOO_BIG) or holds a byte
 * <= 0x20, 0x7f or >= 0x80; a ref with another scheme ("javascript:", "file:") is
 * MC_ERR_INVALID, and so is a base that fails wire_check_url. *out is new (free) on MC_OK,
 * NULL otherwise; MC_ERR_NOMEM when memory runs out. */
MC_MUST_CHECK enum mc_err wire_resolve_url(const char *base, const char *ref, char **out);

/* An informational absolute URI (RFC 3986 section 4.3) such as the directory's
 * meta.termsOfService, where Pebble and mockca use a "data:" URI: a scheme (a letter, then
 * letters, digits, '+', '-', '.'), ':', then at least one byte, none <= 0x20, 0x7f or
 * >= 0x80. Never fetched by the client, only shown, so any scheme will do. MC_ERR_TOO_BIG
 * above WIRE_MAX_URL bytes, MC_ERR_INVALID otherwise. */
MC_MUST_CHECK enum mc_err wire_check_uri(const char *s);

/* The ACME object kinds whose "status" is checked (RFC 8555 section 7.1.6). */
enum wire_obj {
    WIRE_ACCOUNT = 1, /* valid, deactivated, revoked */
    WIRE_ORDER,       /* pending, ready, processing, valid, invalid */
    WIRE_AUTHZ,       /* pending, valid, invalid, deactivated, expired, revoked */
    WIRE_CHALLENGE,   /* pending, processing, valid, invalid */
};
/* MC_OK when status is one of kind's statuses (exact, case-sensitive), else
 * MC_ERR_INVALID (NULL included). */
MC_MUST_CHECK enum mc_err wire_check_status(enum wire_obj kind, const char *status);

/* Parses an RFC 3339 date-time ("2026-11-24T03:24:15Z", "...T03:24:15.123+02:00"; 't',
 * 'z' and a space for 'T' accepted, fractions truncated, a leap second 60 taken as the
 * next second) into Unix seconds. The date must exist (Feb 29 only in leap years), years
 * 0000..9999, offsets up to 23:59. MC_ERR_INVALID otherwise. */
MC_MUST_CHECK enum mc_err wire_rfc3339(const char *s, int64_t *out);

/* Unix seconds of the proleptic Gregorian civil time y-mo-d h:mi:s UTC. MC_ERR_INVALID
 * when the day does not exist in that month (leap years counted), or a field is out of
 * range (h 0..23, mi 0..59, s 0..60, y 0..9999). Shared with the HTTP-date parser. */
MC_MUST_CHECK enum mc_err wire_civil_to_unix(int y, int mo, int d, int h, int mi, int s,
                                             int64_t *out);

#endif
