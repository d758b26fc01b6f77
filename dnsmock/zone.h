/* zone.h: dnsmock's record store. One reader-writer lock guards it: queries read, the
 * management API and RFC 2136 updates write.
 *
 * Names are kept canonical: lowercase, with exactly one trailing dot ("example.com.").
 * Every function that takes a name accepts it with or without the trailing dot, in any
 * case. Two modes:
 *   compat: as challtestsrv, any A/AAAA query for a name without its own records gets
 *           the default address; nothing is ever NXDOMAIN.
 *   strict: only configured data exists; names under a zone apex (a name with an SOA)
 *           that hold nothing are NXDOMAIN, names with other types NODATA, both with the
 *           zone's SOA in the authority section; names under no zone are REFUSED.
 *
 * Bounds: ZONE_MAX_NAMES names, ZONE_MAX_PER_RRSET records per name and type; past them
 * MC_ERR_LIMIT. */
#ifndef DNSMOCK_ZONE_H
#define DNSMOCK_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "common/err.h"

#define ZONE_NAME_MAX 256 /* text form with trailing dot, plus NUL */
#define ZONE_MAX_NAMES 100000
#define ZONE_MAX_PER_RRSET 64
#define ZONE_TXT_MAX 4096 /* one TXT value; split into 255-byte strings on the wire */
#define ZONE_CNAME_CHAIN_MAX 8

enum zone_mode { ZONE_MODE_COMPAT = 0, ZONE_MODE_STRICT };

struct zone_soa {
    char mname[ZONE_NAME_MAX];
    char rname[ZONE_NAME_MAX];
    uint32_t serial, refresh, retry, expire, minimum;
};

struct zone_store;

struct zone_store *zone_store_new(void);     /* NULL when out of memory */
void zone_store_free(struct zone_store *zs); /* NULL ok */

/* Canonicalizes in (with or without trailing dot, any case) into out (at least
 * ZONE_NAME_MAX bytes). "." and "" are the root ("."). MC_ERR_INVALID for an empty label,
 * a label over 63 bytes, a name over 253 characters, or bytes outside printable ASCII. */
MC_MUST_CHECK enum mc_err zone_name_normalize(const char *in, char *out, size_t outn);

/* The canonical text of a dname rdf into out. false for names the store cannot hold
 * (escaped bytes, over-long), which callers answer without touching the store. */
bool zone_name_from_rdf(const ldns_rdf *rdf, char out[ZONE_NAME_MAX]);

void zone_set_mode(struct zone_store *zs, enum zone_mode mode);
enum zone_mode zone_get_mode(struct zone_store *zs);
/* TTL of records added through the management API; 0 as challtestsrv by default. */
void zone_set_default_ttl(struct zone_store *zs, uint32_t ttl);

/* Default addresses for compat mode. ip "" or NULL clears. MC_ERR_INVALID if ip is not an
 * address of that family. */
MC_MUST_CHECK enum mc_err zone_set_default_ipv4(struct zone_store *zs, const char *ip);
MC_MUST_CHECK enum mc_err zone_set_default_ipv6(struct zone_store *zs, const char *ip);

/* The management API's record calls. add appends to the name's set (a duplicate value is
 * kept once); clear removes the whole set (MC_OK even if there was none). */
MC_MUST_CHECK enum mc_err zone_add_a(struct zone_store *zs, const char *host, const char *ip);
MC_MUST_CHECK enum mc_err zone_clear_a(struct zone_store *zs, const char *host);
MC_MUST_CHECK enum mc_err zone_add_aaaa(struct zone_store *zs, const char *host, const char *ip);
MC_MUST_CHECK enum mc_err zone_clear_aaaa(struct zone_store *zs, const char *host);
/* value is any bytes up to ZONE_TXT_MAX (MC_ERR_TOO_BIG beyond). */
MC_MUST_CHECK enum mc_err zone_add_txt(struct zone_store *zs, const char *host, const char *value,
                                       size_t len);
MC_MUST_CHECK enum mc_err zone_clear_txt(struct zone_store *zs, const char *host);
/* One CNAME per name; set replaces it. */
MC_MUST_CHECK enum mc_err zone_set_cname(struct zone_store *zs, const char *host,
                                         const char *target);
MC_MUST_CHECK enum mc_err zone_clear_cname(struct zone_store *zs, const char *host);
/* tag: 1-15 ASCII letters and digits (RFC 8659 section 4.1). */
MC_MUST_CHECK enum mc_err zone_add_caa(struct zone_store *zs, const char *host, uint8_t flags,
                                       const char *tag, const char *value);
MC_MUST_CHECK enum mc_err zone_clear_caa(struct zone_store *zs, const char *host);
MC_MUST_CHECK enum mc_err zone_add_ns(struct zone_store *zs, const char *host, const char *ns);
MC_MUST_CHECK enum mc_err zone_clear_ns(struct zone_store *zs, const char *host);
/* Makes apex a zone: sets its SOA (soa NULL: mname "ns1.<apex>", rname
 * "hostmaster.<apex>", serial 1, 3600 900 604800 0) and, if ns is not NULL, adds an NS. */
MC_MUST_CHECK enum mc_err zone_add_zone(struct zone_store *zs, const char *apex,
                                        const struct zone_soa *soa, const char *ns);
/* Removes apex's SOA and NS and every record at or below apex. MC_ERR_NOT_FOUND if apex
 * holds no SOA. */
MC_MUST_CHECK enum mc_err zone_remove_zone(struct zone_store *zs, const char *apex);
/* SERVFAIL for queries of exactly this name (challtestsrv's rule). */
MC_MUST_CHECK enum mc_err zone_set_servfail(struct zone_store *zs, const char *host);
MC_MUST_CHECK enum mc_err zone_clear_servfail(struct zone_store *zs, const char *host);
/* Removes every record, zone and SERVFAIL name; keeps mode, defaults and TTL. */
void zone_clear_all(struct zone_store *zs);

/* --- Read and RR-level access, for the query path and RFC 2136 -----------------------
 * The *_locked functions require the caller to hold the lock: read for lookups, write
 * for changes. A caller never holds it across a call to a function without _locked. */
void zone_rdlock(struct zone_store *zs);
void zone_wrlock(struct zone_store *zs);
void zone_unlock(struct zone_store *zs);

/* Appends to out new ldns RRs of exactly (name, type) as stored: no CNAME following, no
 * compat defaults. type LDNS_RR_TYPE_ANY appends every type. TXT values longer than 255
 * bytes become several character-strings. MC_OK with nothing appended if there are none. */
MC_MUST_CHECK enum mc_err zone_collect_locked(struct zone_store *zs, const char *name,
                                              ldns_rr_type type, ldns_rr_list *out);
/* The query fast path: appends to buf[*len..bufn) the answer RRs of exactly (name, type)
 * for type A, AAAA or TXT in wire form, each owner a compression pointer to offset 12
 * (where the question's name sits), the same bytes ldns writes for zone_collect_locked's
 * RRs; *count is how many. *has_cname tells that name holds a CNAME (then nothing is
 * written: the caller must follow it). MC_ERR_TOO_BIG when they do not fit (nothing
 * written), MC_ERR_UNSUPPORTED for other types. Added for the >= 200k queries/s target:
 * no allocation. */
MC_MUST_CHECK enum mc_err zone_answer_wire_locked(struct zone_store *zs, const char *name,
                                                  uint16_t type, uint8_t *buf, size_t bufn,
                                                  size_t *len, uint16_t *count, bool *has_cname);
/* True if name holds any record, or is an ancestor of a name that does (an empty
 * non-terminal, RFC 8020: NODATA, not NXDOMAIN). */
bool zone_name_exists_locked(struct zone_store *zs, const char *name);
/* The closest enclosing apex (a name with an SOA) at or above name into out; false if
 * none. */
bool zone_find_apex_locked(struct zone_store *zs, const char *name, char *out, size_t outn);
bool zone_is_servfail_locked(struct zone_store *zs, const char *name);
/* The compat-mode defaults; false if none is set for that family. */
bool zone_default_a_locked(struct zone_store *zs, uint8_t out[4]);
bool zone_default_aaaa_locked(struct zone_store *zs, uint8_t out[16]);
enum zone_mode zone_get_mode_locked(struct zone_store *zs);

/* RFC 2136 section 3.4.2 operations. add: A, AAAA, TXT, CNAME, CAA, NS, SOA
 * (MC_ERR_UNSUPPORTED for other types); an RR equal to a stored one replaces its TTL. */
MC_MUST_CHECK enum mc_err zone_add_rr_locked(struct zone_store *zs, const ldns_rr *rr);
/* Deletes the stored RR equal to rr in name, type and rdata (TTL ignored); MC_OK if none. */
MC_MUST_CHECK enum mc_err zone_del_rr_locked(struct zone_store *zs, const ldns_rr *rr);
/* Deletes the whole RRset (type ANY: every type but, at a zone apex, SOA and NS). */
MC_MUST_CHECK enum mc_err zone_del_rrset_locked(struct zone_store *zs, const char *name,
                                                ldns_rr_type type);

#endif
