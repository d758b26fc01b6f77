/* dnsmock/update.c: RFC 2136 dynamic UPDATE, authenticated with TSIG (dnsmock/tsig.c).
 *
 * Order of checks, as RFC 2136 section 3 and RFC 8945 section 5.2 lay them out:
 *   TSIG (key, MAC, time) -> zone section (3.1) -> prerequisites (3.2) -> update prescan
 *   (3.4.1) -> apply (3.4.2).
 * Everything from the zone check on runs under one zone_wrlock, so the prerequisites hold
 * when the updates land and no reader sees half an update. Should the store still refuse
 * a change part-way (a bound reached), the RRsets touched so far are restored from a
 * snapshot taken before the first change: all or nothing. */
#include "dnsmock/update.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dnsmock/internal.h"
#include "dnsmock/tsig.h"
#include "dnsmock/zone.h"

#define UPDATE_MAX_RRS 1024 /* prerequisites or updates in one message */

/* ---- names -------------------------------------------------------------------------- */

/* True if name is zone or below it (both canonical). */
static bool upd_in_zone(const char *name, const char *zone)
{
    size_t n = strlen(name), z = strlen(zone);

    if (strcmp(zone, ".") == 0)
        return true;
    if (n == z)
        return strcmp(name, zone) == 0;
    return n > z && name[n - z - 1] == '.' && strcmp(name + n - z, zone) == 0;
}

/* ---- the response ------------------------------------------------------------------- */

struct upd_resp {
    uint8_t rcode;
    struct tsig_check tsig; /* of a signed request: how to sign the response */
    bool echo_zone;
};

static enum mc_err upd_respond(struct dnsmock *d, const ldns_pkt *q, const struct upd_resp *r,
                               uint8_t **out, size_t *outlen)
{
    ldns_pkt *resp = ldns_pkt_new();
    ldns_rr *rr = NULL;
    enum mc_err err = MC_ERR_NOMEM;

    if (resp == NULL)
        return MC_ERR_NOMEM;
    ldns_pkt_set_id(resp, ldns_pkt_id(q));
    ldns_pkt_set_qr(resp, true);
    ldns_pkt_set_opcode(resp, LDNS_PACKET_UPDATE);
    ldns_pkt_set_rcode(resp, r->rcode);
    if (r->echo_zone && ldns_pkt_qdcount(q) == 1) {
        rr = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(q), 0));
        if (rr == NULL)
            goto out;
        ldns_rr_set_question(rr, true);
        if (!ldns_pkt_push_rr(resp, LDNS_SECTION_QUESTION, rr)) {
            ldns_rr_free(rr);
            goto out;
        }
    }
    if (!tsig_sign_response(d->clock, q, &r->tsig, resp))
        goto out;
    if (ldns_pkt2wire(out, resp, outlen) != LDNS_STATUS_OK) {
        *out = NULL;
        goto out;
    }
    err = MC_OK;
out:
    ldns_pkt_free(resp);
    return err;
}

/* ---- RFC 2136 ----------------------------------------------------------------------- */

static bool upd_type_meta(ldns_rr_type t)
{
    return t == LDNS_RR_TYPE_ANY || t == LDNS_RR_TYPE_AXFR || t == LDNS_RR_TYPE_IXFR ||
           t == LDNS_RR_TYPE_MAILA || t == LDNS_RR_TYPE_MAILB || t == LDNS_RR_TYPE_OPT ||
           t == LDNS_RR_TYPE_TSIG || t == LDNS_RR_TYPE_TKEY;
}

/* The types zone_add_rr_locked stores. */
static bool upd_type_supported(ldns_rr_type t)
{
    return t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA || t == LDNS_RR_TYPE_TXT ||
           t == LDNS_RR_TYPE_CNAME || t == LDNS_RR_TYPE_CAA || t == LDNS_RR_TYPE_NS ||
           t == LDNS_RR_TYPE_SOA;
}

/* Equal rdata, comparing names case-insensitively (RFC 2136 section 1.1.1 compares RRs
 * without TTL; names compare as DNS names). */
static bool upd_rdata_equal(const ldns_rr *a, const ldns_rr *b)
{
    ldns_rr *ca = ldns_rr_clone(a), *cb = ldns_rr_clone(b);
    bool eq = false;

    if (ca == NULL || cb == NULL || ldns_rr_get_type(a) != ldns_rr_get_type(b))
        goto out;
    ldns_rr2canonical(ca);
    ldns_rr2canonical(cb);
    if (ldns_rr_rd_count(ca) != ldns_rr_rd_count(cb))
        goto out;
    for (size_t i = 0; i < ldns_rr_rd_count(ca); i++)
        if (ldns_rdf_compare(ldns_rr_rdf(ca, i), ldns_rr_rdf(cb, i)) != 0)
            goto out;
    eq = true;
out:
    ldns_rr_free(ca);
    ldns_rr_free(cb);
    return eq;
}

static bool upd_list_has(const ldns_rr_list *l, const ldns_rr *rr)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
        if (upd_rdata_equal(ldns_rr_list_rr(l, i), rr))
            return true;
    return false;
}

/* Collects name/type from the store into a new list; NULL when out of memory. */
static ldns_rr_list *upd_collect(struct zone_store *zs, const char *name, ldns_rr_type t)
{
    ldns_rr_list *l = ldns_rr_list_new();

    if (l == NULL)
        return NULL;
    if (t != LDNS_RR_TYPE_ANY && !upd_type_supported(t))
        return l; /* the store holds none of these */
    if (zone_collect_locked(zs, name, t, l) != MC_OK) {
        ldns_rr_list_deep_free(l);
        return NULL;
    }
    return l;
}

/* RFC 2136 section 3.2. Returns the rcode (NOERROR when every prerequisite holds). */
static uint8_t upd_prereqs(struct zone_store *zs, const char *zone, const ldns_rr_list *pr)
{
    size_t n = ldns_rr_list_rr_count(pr);
    char name[ZONE_NAME_MAX], other[ZONE_NAME_MAX];
    uint8_t rc = LDNS_RCODE_NOERROR;

    for (size_t i = 0; i < n; i++) {
        const ldns_rr *rr = ldns_rr_list_rr(pr, i);
        ldns_rr_class cls = ldns_rr_get_class(rr);
        ldns_rr_type t = ldns_rr_get_type(rr);
        ldns_rr_list *have = NULL;
        bool exists;

        if (ldns_rr_ttl(rr) != 0)
            return LDNS_RCODE_FORMERR;
        if (!zone_name_from_rdf(ldns_rr_owner(rr), name))
            return LDNS_RCODE_FORMERR;
        if (!upd_in_zone(name, zone))
            return LDNS_RCODE_NOTZONE;
        if (cls == LDNS_RR_CLASS_ANY || cls == LDNS_RR_CLASS_NONE) {
            if (ldns_rr_rd_count(rr) != 0)
                return LDNS_RCODE_FORMERR;
            if (t != LDNS_RR_TYPE_ANY && upd_type_meta(t))
                return LDNS_RCODE_FORMERR;
            /* "Name is in use" means an RR is owned by it (RFC 2136 2.4.4); an empty
             * non-terminal is not in use, so ask for records rather than existence. */
            have = upd_collect(zs, name, t);
            if (have == NULL)
                return LDNS_RCODE_SERVFAIL;
            exists = ldns_rr_list_rr_count(have) > 0;
            ldns_rr_list_deep_free(have);
            if (cls == LDNS_RR_CLASS_ANY && !exists)
                return t == LDNS_RR_TYPE_ANY ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NXRRSET;
            if (cls == LDNS_RR_CLASS_NONE && exists)
                return t == LDNS_RR_TYPE_ANY ? LDNS_RCODE_YXDOMAIN : LDNS_RCODE_YXRRSET;
        } else if (cls == LDNS_RR_CLASS_IN) {
            if (upd_type_meta(t))
                return LDNS_RCODE_FORMERR;
        } else {
            return LDNS_RCODE_FORMERR;
        }
    }
    /* Value-dependent (class IN): each (name, type) group must equal the stored RRset
     * exactly (RFC 2136 section 3.2.3). Checked after the syntax of every prerequisite. */
    for (size_t i = 0; i < n && rc == LDNS_RCODE_NOERROR; i++) {
        const ldns_rr *rr = ldns_rr_list_rr(pr, i);
        ldns_rr_type t = ldns_rr_get_type(rr);
        ldns_rr_list *have = NULL;
        bool first = true;

        if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN || !zone_name_from_rdf(ldns_rr_owner(rr), name))
            continue;
        for (size_t j = 0; j < i && first; j++) {
            const ldns_rr *p = ldns_rr_list_rr(pr, j);
            if (ldns_rr_get_class(p) == LDNS_RR_CLASS_IN && ldns_rr_get_type(p) == t &&
                zone_name_from_rdf(ldns_rr_owner(p), other) && strcmp(other, name) == 0)
                first = false;
        }
        if (!first)
            continue;
        have = upd_collect(zs, name, t);
        if (have == NULL)
            return LDNS_RCODE_SERVFAIL;
        /* every stored RR is named in the group, and every group RR is stored */
        for (size_t k = 0; k < ldns_rr_list_rr_count(have) && rc == LDNS_RCODE_NOERROR; k++) {
            bool named = false;
            for (size_t j = i; j < n && !named; j++) {
                const ldns_rr *p = ldns_rr_list_rr(pr, j);
                if (ldns_rr_get_class(p) == LDNS_RR_CLASS_IN && ldns_rr_get_type(p) == t &&
                    zone_name_from_rdf(ldns_rr_owner(p), other) && strcmp(other, name) == 0 &&
                    upd_rdata_equal(p, ldns_rr_list_rr(have, k)))
                    named = true;
            }
            if (!named)
                rc = LDNS_RCODE_NXRRSET;
        }
        for (size_t j = i; j < n && rc == LDNS_RCODE_NOERROR; j++) {
            const ldns_rr *p = ldns_rr_list_rr(pr, j);
            if (ldns_rr_get_class(p) == LDNS_RR_CLASS_IN && ldns_rr_get_type(p) == t &&
                zone_name_from_rdf(ldns_rr_owner(p), other) && strcmp(other, name) == 0 &&
                !upd_list_has(have, p))
                rc = LDNS_RCODE_NXRRSET;
        }
        ldns_rr_list_deep_free(have);
    }
    return rc;
}

/* RFC 2136 section 3.4.1: every update RR is checked before any is applied. */
static uint8_t upd_prescan(const char *zone, const ldns_rr_list *up)
{
    char name[ZONE_NAME_MAX];

    for (size_t i = 0; i < ldns_rr_list_rr_count(up); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(up, i);
        ldns_rr_class cls = ldns_rr_get_class(rr);
        ldns_rr_type t = ldns_rr_get_type(rr);

        if (!zone_name_from_rdf(ldns_rr_owner(rr), name))
            return LDNS_RCODE_FORMERR;
        if (!upd_in_zone(name, zone))
            return LDNS_RCODE_NOTZONE;
        if (cls == LDNS_RR_CLASS_IN) {
            if (upd_type_meta(t) || ldns_rr_rd_count(rr) == 0)
                return LDNS_RCODE_FORMERR;
        } else if (cls == LDNS_RR_CLASS_ANY) {
            if (ldns_rr_ttl(rr) != 0 || ldns_rr_rd_count(rr) != 0 ||
                (t != LDNS_RR_TYPE_ANY && upd_type_meta(t)))
                return LDNS_RCODE_FORMERR;
            if (t == LDNS_RR_TYPE_ANY)
                continue;
        } else if (cls == LDNS_RR_CLASS_NONE) {
            if (ldns_rr_ttl(rr) != 0 || upd_type_meta(t))
                return LDNS_RCODE_FORMERR;
        } else {
            return LDNS_RCODE_FORMERR;
        }
        /* A type we cannot store is refused outright, rather than half the message
         * succeeding: the client learns at once that this server will not hold it. */
        if (!upd_type_supported(t))
            return LDNS_RCODE_REFUSED;
    }
    return LDNS_RCODE_NOERROR;
}

/* An RRset as it was before the update, to restore should a later change fail. */
struct upd_touch {
    char name[ZONE_NAME_MAX];
    ldns_rr_type type;
    ldns_rr_list *before;
};

struct upd_undo {
    struct upd_touch *v;
    size_t n, cap;
};

/* Snapshots (name, type) once, before its first change. false when out of memory. */
static bool upd_touch(struct zone_store *zs, struct upd_undo *u, const char *name, ldns_rr_type t)
{
    struct upd_touch *e;

    for (size_t i = 0; i < u->n; i++)
        if (u->v[i].type == t && strcmp(u->v[i].name, name) == 0)
            return true;
    if (u->n == u->cap) {
        size_t cap = u->cap == 0 ? 8 : u->cap * 2;
        struct upd_touch *v = realloc(u->v, cap * sizeof(*v));
        if (v == NULL)
            return false;
        u->v = v;
        u->cap = cap;
    }
    e = &u->v[u->n];
    memcpy(e->name, name, strlen(name) + 1);
    e->type = t;
    e->before = upd_collect(zs, name, t);
    if (e->before == NULL)
        return false;
    u->n++;
    return true;
}

static void upd_undo_free(struct upd_undo *u)
{
    for (size_t i = 0; i < u->n; i++)
        ldns_rr_list_deep_free(u->v[i].before);
    free(u->v);
    memset(u, 0, sizeof(*u));
}

/* Puts every touched RRset back as it was: records added since are deleted one by one
 * and the old ones re-added (which also restores their TTLs). RR by RR rather than
 * zone_del_rrset_locked, because the store keeps an apex's NS set out of reach of that. */
static void upd_rollback(struct zone_store *zs, struct upd_undo *u)
{
    for (size_t i = u->n; i-- > 0;) {
        struct upd_touch *e = &u->v[i];
        ldns_rr_list *now = upd_collect(zs, e->name, e->type);
        enum mc_err err = now == NULL ? MC_ERR_NOMEM : MC_OK;

        for (size_t j = 0; err == MC_OK && j < ldns_rr_list_rr_count(now); j++)
            if (!upd_list_has(e->before, ldns_rr_list_rr(now, j)))
                err = zone_del_rr_locked(zs, ldns_rr_list_rr(now, j));
        for (size_t j = 0; err == MC_OK && j < ldns_rr_list_rr_count(e->before); j++)
            err = zone_add_rr_locked(zs, ldns_rr_list_rr(e->before, j));
        ldns_rr_list_deep_free(now);
        if (err != MC_OK)
            log_msg(LOGL_ERROR, "dns.update.rollback", "name=%s type=%u err=\"%s\"", e->name,
                    (unsigned)e->type, mc_strerror(err));
    }
}

/* Serial arithmetic of RFC 1982: a is newer than b. */
static bool upd_serial_newer(uint32_t a, uint32_t b)
{
    return a != b && (uint32_t)(a - b) < 0x80000000u;
}

/* Applies one update RR (RFC 2136 section 3.4.2). */
static enum mc_err upd_apply_one(struct zone_store *zs, const char *zone, struct upd_undo *u,
                                 const ldns_rr *rr)
{
    char name[ZONE_NAME_MAX];
    ldns_rr_class cls = ldns_rr_get_class(rr);
    ldns_rr_type t = ldns_rr_get_type(rr);
    bool apex;
    ldns_rr_list *have = NULL;
    ldns_rr *copy = NULL;
    enum mc_err err = MC_OK;

    if (!zone_name_from_rdf(ldns_rr_owner(rr), name))
        return MC_ERR_INVALID; /* prescan already refused these */
    apex = strcmp(name, zone) == 0;

    if (cls == LDNS_RR_CLASS_IN) {
        have = upd_collect(zs, name, LDNS_RR_TYPE_ANY);
        if (have == NULL)
            return MC_ERR_NOMEM;
        if (t == LDNS_RR_TYPE_SOA) {
            /* only at the zone's apex, and only a newer serial (3.4.2.2) */
            const ldns_rr *cur = NULL;
            for (size_t i = 0; i < ldns_rr_list_rr_count(have); i++)
                if (ldns_rr_get_type(ldns_rr_list_rr(have, i)) == LDNS_RR_TYPE_SOA)
                    cur = ldns_rr_list_rr(have, i);
            if (!apex || (cur != NULL && ldns_rr_rd_count(cur) == 7 && ldns_rr_rd_count(rr) == 7 &&
                          !upd_serial_newer(ldns_rdf2native_int32(ldns_rr_rdf(rr, 2)),
                                            ldns_rdf2native_int32(ldns_rr_rdf(cur, 2)))))
                goto out;
        }
        /* CNAME and other data do not mix (3.4.2.2): the update is ignored, not an
         * error, as BIND does. */
        for (size_t i = 0; i < ldns_rr_list_rr_count(have); i++) {
            ldns_rr_type ht = ldns_rr_get_type(ldns_rr_list_rr(have, i));
            if ((t == LDNS_RR_TYPE_CNAME) != (ht == LDNS_RR_TYPE_CNAME))
                goto out;
        }
        if (!upd_touch(zs, u, name, t)) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        copy = ldns_rr_clone(rr);
        if (copy == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        if (t == LDNS_RR_TYPE_CNAME || t == LDNS_RR_TYPE_SOA) {
            /* one per name: the new one replaces */
            err = zone_del_rrset_locked(zs, name, t);
            if (err != MC_OK)
                goto out;
        }
        err = zone_add_rr_locked(zs, copy);
    } else if (cls == LDNS_RR_CLASS_ANY) {
        if (t != LDNS_RR_TYPE_ANY) {
            if (apex && (t == LDNS_RR_TYPE_SOA || t == LDNS_RR_TYPE_NS))
                goto out;
            if (!upd_touch(zs, u, name, t)) {
                err = MC_ERR_NOMEM;
                goto out;
            }
            err = zone_del_rrset_locked(zs, name, t);
            goto out;
        }
        /* delete every RRset at name, except SOA and NS at the zone apex (3.4.2.3) */
        have = upd_collect(zs, name, LDNS_RR_TYPE_ANY);
        if (have == NULL)
            return MC_ERR_NOMEM;
        for (size_t i = 0; i < ldns_rr_list_rr_count(have) && err == MC_OK; i++) {
            ldns_rr_type ht = ldns_rr_get_type(ldns_rr_list_rr(have, i));
            if (apex && (ht == LDNS_RR_TYPE_SOA || ht == LDNS_RR_TYPE_NS))
                continue;
            if (!upd_touch(zs, u, name, ht)) {
                err = MC_ERR_NOMEM;
                goto out;
            }
            err = zone_del_rrset_locked(zs, name, ht);
        }
    } else { /* NONE: delete one RR */
        if (t == LDNS_RR_TYPE_SOA)
            goto out;
        if (apex && t == LDNS_RR_TYPE_NS) {
            /* never the zone's last NS (3.4.2.4) */
            have = upd_collect(zs, name, LDNS_RR_TYPE_NS);
            if (have == NULL)
                return MC_ERR_NOMEM;
            if (ldns_rr_list_rr_count(have) <= 1)
                goto out;
        }
        if (!upd_touch(zs, u, name, t)) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        copy = ldns_rr_clone(rr);
        if (copy == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        ldns_rr_set_class(copy, LDNS_RR_CLASS_IN);
        err = zone_del_rr_locked(zs, copy);
    }
out:
    ldns_rr_list_deep_free(have);
    ldns_rr_free(copy);
    return err;
}

/* Zone check, prerequisites, prescan and apply, under one write lock. */
static uint8_t upd_process(struct dnsmock *d, const ldns_pkt *q, bool *echo_zone)
{
    const ldns_rr *zrr;
    char zone[ZONE_NAME_MAX], apex[ZONE_NAME_MAX];
    const ldns_rr_list *pr = ldns_pkt_answer(q), *up = ldns_pkt_authority(q);
    struct upd_undo undo = {0};
    uint8_t rc;
    enum mc_err err = MC_OK;

    /* 3.1.1: exactly one zone, type SOA */
    if (ldns_pkt_qdcount(q) != 1 || ldns_rr_list_rr_count(ldns_pkt_question(q)) != 1)
        return LDNS_RCODE_FORMERR;
    zrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
    if (ldns_rr_get_type(zrr) != LDNS_RR_TYPE_SOA)
        return LDNS_RCODE_FORMERR;
    *echo_zone = true;
    if (ldns_rr_get_class(zrr) != LDNS_RR_CLASS_IN)
        return LDNS_RCODE_NOTAUTH; /* we hold no zone of another class */
    if (!zone_name_from_rdf(ldns_rr_owner(zrr), zone))
        return LDNS_RCODE_NOTAUTH;
    if (ldns_rr_list_rr_count(pr) > UPDATE_MAX_RRS || ldns_rr_list_rr_count(up) > UPDATE_MAX_RRS)
        return LDNS_RCODE_REFUSED;

    zone_wrlock(d->zones);
    /* 3.1.2: strict mode holds only configured zones; compat mode, like challtestsrv,
     * takes any name as a zone so a client needs no set-up. */
    if (d->strict || zone_get_mode_locked(d->zones) == ZONE_MODE_STRICT) {
        if (!zone_find_apex_locked(d->zones, zone, apex, sizeof(apex)) || strcmp(apex, zone) != 0) {
            rc = LDNS_RCODE_NOTAUTH;
            goto out;
        }
    }
    rc = upd_prereqs(d->zones, zone, pr);
    if (rc != LDNS_RCODE_NOERROR)
        goto out;
    rc = upd_prescan(zone, up);
    if (rc != LDNS_RCODE_NOERROR)
        goto out;
    for (size_t i = 0; i < ldns_rr_list_rr_count(up) && err == MC_OK; i++)
        err = upd_apply_one(d->zones, zone, &undo, ldns_rr_list_rr(up, i));
    if (err != MC_OK) {
        upd_rollback(d->zones, &undo);
        log_msg(LOGL_WARN, "dns.update.failed", "zone=%s err=\"%s\"", zone, mc_strerror(err));
        rc = err == MC_ERR_NOMEM ? LDNS_RCODE_SERVFAIL : LDNS_RCODE_REFUSED;
    }
out:
    zone_unlock(d->zones);
    upd_undo_free(&undo);
    if (rc == LDNS_RCODE_NOERROR)
        log_msg(LOGL_INFO, "dns.update", "zone=%s prereqs=%zu updates=%zu", zone,
                ldns_rr_list_rr_count(pr), ldns_rr_list_rr_count(up));
    return rc;
}

enum mc_err dns_update_handle(struct dnsmock *d, const ldns_pkt *q, const uint8_t *wire, size_t len,
                              uint8_t **out, size_t *outlen)
{
    struct upd_resp r = {.rcode = LDNS_RCODE_NOERROR};

    *out = NULL;
    *outlen = 0;
    if (ldns_pkt_get_opcode(q) != LDNS_PACKET_UPDATE) {
        r.rcode = LDNS_RCODE_NOTIMPL;
        return upd_respond(d, q, &r, out, outlen);
    }
    if (ldns_pkt_tsig(q) != NULL) {
        tsig_check_request(d->tsig, d->clock, q, wire, len, &r.tsig);
        if (r.tsig.rcode != LDNS_RCODE_NOERROR) {
            r.rcode = r.tsig.rcode;
            return upd_respond(d, q, &r, out, outlen);
        }
    } else if (!d->allow_unsigned_updates) {
        /* Keys configured or not, an unsigned update is a policy refusal (RFC 2136
         * section 3.3 leaves the policy to the server). */
        log_msg(LOGL_INFO, "dns.update.refused", "reason=unsigned keys=%zu",
                tsig_keyring_count(d->tsig));
        r.rcode = LDNS_RCODE_REFUSED;
        return upd_respond(d, q, &r, out, outlen);
    }
    r.rcode = upd_process(d, q, &r.echo_zone);
    return upd_respond(d, q, &r, out, outlen);
}
