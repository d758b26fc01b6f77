/* dnsmock/answer.c: one DNS message in, one response out (RFC 1035 section 4.1, RFC 6891
 * for EDNS0, RFC 2308 for negative answers, RFC 8020 for empty non-terminals). */
#include "dnsmock/answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dnsmock/dnsfault.h"
#include "dnsmock/history.h"
#include "dnsmock/internal.h"
#include "dnsmock/tsig.h"
#include "dnsmock/update.h"
#include "dnsmock/zone.h"

#define ANSWER_EDNS_SIZE 1232 /* what we advertise: the DNS flag day 2020 value */
#define ANSWER_UDP_MIN 512
#define ANSWER_TCP_MAX 65535
/* Text form of a wire name: 255 bytes, each at most "\DDD". */
#define ANSWER_NAME_TEXT (255 * 4 + 2)

/* Writes the canonical text of a wire-format name (labels, no compression; ldns_rdf_data
 * of a dname) into out: lowercase, trailing dot, "." for the root, and the same escapes as
 * ldns's text form (\. \\ and \DDD) so the store sees the name the management API would
 * have given it. */
static void answer_name_text(const uint8_t *wire, size_t wlen, char *out, size_t outn)
{
    size_t o = 0, i = 0;
    while (i < wlen && wire[i] != 0) {
        size_t lab = wire[i++];
        for (size_t k = 0; k < lab && i < wlen; k++, i++) {
            uint8_t c = wire[i];
            if (o + 5 >= outn)
                goto done;
            if (c >= 'A' && c <= 'Z') {
                out[o++] = (char)(c + 32);
            } else if (c == '.' || c == '\\') {
                out[o++] = '\\';
                out[o++] = (char)c;
            } else if (c > 0x20 && c < 0x7f) {
                out[o++] = (char)c;
            } else {
                o += (size_t)snprintf(out + o, outn - o, "\\%03u", c);
            }
        }
        if (o + 2 >= outn)
            goto done;
        out[o++] = '.';
    }
done:
    if (o == 0)
        out[o++] = '.';
    out[o] = '\0';
}

static void answer_rdf_text(const ldns_rdf *f, char *out, size_t outn)
{
    answer_name_text(ldns_rdf_data(f), ldns_rdf_size(f), out, outn);
}

/* The qtype's mnemonic as fault rules name it ("TXT", or "TYPE65534" for unknown). */
static const char *answer_type_name(uint16_t type, char *buf, size_t n)
{
    const ldns_rr_descriptor *desc = ldns_rr_descript(type);
    if (desc != NULL && desc->_type == type && desc->_name != NULL)
        return desc->_name;
    if (type == LDNS_RR_TYPE_ANY)
        return "ANY";
    snprintf(buf, n, "TYPE%u", type);
    return buf;
}

/* A response that carries only a header and, when it can be read, the question, built by
 * hand because the message may be too broken for ldns (FORMERR) or of an opcode we do
 * not parse (NOTIMP). RFC 1035 section 4.1.1. */
static enum mc_err answer_header_only(const uint8_t *msg, size_t len, uint8_t rcode, uint8_t **out,
                                      size_t *outlen)
{
    ldns_rdf *qname = NULL;
    size_t pos = 12;
    size_t qlen = 0;
    uint16_t qdcount = (uint16_t)((msg[4] << 8) | msg[5]);
    if (qdcount >= 1 && ldns_wire2dname(&qname, msg, len, &pos) == LDNS_STATUS_OK && pos + 4 <= len)
        qlen = ldns_rdf_size(qname) + 4;
    uint8_t *r = malloc(12 + qlen);
    if (r == NULL) {
        ldns_rdf_deep_free(qname);
        return MC_ERR_NOMEM;
    }
    r[0] = msg[0];
    r[1] = msg[1];
    r[2] = (uint8_t)(0x80 | (msg[2] & 0x79)); /* QR, opcode and RD copied */
    r[3] = rcode & 0x0f;
    memset(r + 4, 0, 8);
    if (qlen > 0) {
        r[5] = 1;
        memcpy(r + 12, ldns_rdf_data(qname), ldns_rdf_size(qname));
        memcpy(r + 12 + ldns_rdf_size(qname), msg + pos, 4);
    }
    ldns_rdf_deep_free(qname);
    *out = r;
    *outlen = 12 + qlen;
    return MC_OK;
}

/* Everything a query answer is made of; the lists are owned here until the response
 * packet takes them. */
struct answer {
    const ldns_pkt *q;
    const ldns_rr *question;
    ldns_pkt_rcode rcode;
    bool aa;
    bool tc;
    uint8_t ext_rcode; /* upper 8 bits of a 12-bit rcode (RFC 6891 section 6.1.3) */
    ldns_rr_list *an;
    ldns_rr_list *ns;
    const struct mc_clock *clock;
    struct tsig_check tsig;   /* of a signed query: its response is signed too */
};

/* Serializes a into wire form. Without records when bare. */
static enum mc_err answer_wire(const struct answer *a, bool bare, uint8_t **out, size_t *outlen)
{
    enum mc_err err = MC_ERR_NOMEM;
    ldns_pkt *p = ldns_pkt_new();
    ldns_rr *qq = NULL;
    if (p == NULL)
        goto out;
    ldns_pkt_set_id(p, ldns_pkt_id(a->q));
    ldns_pkt_set_qr(p, true);
    ldns_pkt_set_aa(p, a->aa);
    ldns_pkt_set_rd(p, ldns_pkt_rd(a->q));
    ldns_pkt_set_cd(p, ldns_pkt_cd(a->q));
    ldns_pkt_set_tc(p, a->tc || bare);
    ldns_pkt_set_opcode(p, LDNS_PACKET_QUERY);
    ldns_pkt_set_rcode(p, (uint8_t)a->rcode);
    if (a->question != NULL) {
        qq = ldns_rr_clone(a->question);
        if (qq == NULL || !ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, qq))
            goto out;
        qq = NULL;
    }
    if (!bare) {
        for (size_t i = 0; a->an != NULL && i < ldns_rr_list_rr_count(a->an); i++) {
            qq = ldns_rr_clone(ldns_rr_list_rr(a->an, i));
            if (qq == NULL || !ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, qq))
                goto out;
            qq = NULL;
        }
        for (size_t i = 0; a->ns != NULL && i < ldns_rr_list_rr_count(a->ns); i++) {
            qq = ldns_rr_clone(ldns_rr_list_rr(a->ns, i));
            if (qq == NULL || !ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, qq))
                goto out;
            qq = NULL;
        }
    }
    if (ldns_pkt_edns(a->q)) {
        ldns_pkt_set_edns_udp_size(p, ANSWER_EDNS_SIZE);
        ldns_pkt_set_edns_extended_rcode(p, a->ext_rcode);
    }
    /* RFC 8945 section 5.3: a signed query gets a signed answer (nsupdate, for one, signs
     * the SOA query that finds the zone and refuses an unsigned reply). */
    if (!tsig_sign_response(a->clock, a->q, &a->tsig, p))
        goto out;
    if (ldns_pkt2wire(out, p, outlen) != LDNS_STATUS_OK)
        goto out;
    err = MC_OK;
out:
    ldns_rr_free(qq);
    ldns_pkt_free(p);
    return err;
}

/* Serializes a and applies the transport's size limit: over UDP the client's (512, or its
 * EDNS0 size), over TCP 65535; past it, header and question with TC=1 (RFC 2181
 * section 9, RFC 6891 section 7). */
static enum mc_err answer_finish(const struct answer *a, bool tcp, uint8_t **out, size_t *outlen)
{
    size_t limit = ANSWER_TCP_MAX;
    if (!tcp) {
        limit = ANSWER_UDP_MIN;
        if (ldns_pkt_edns(a->q) && ldns_pkt_edns_udp_size(a->q) > limit)
            limit = ldns_pkt_edns_udp_size(a->q);
    }
    enum mc_err err = answer_wire(a, false, out, outlen);
    if (err != MC_OK || *outlen <= limit)
        return err;
    free(*out);
    *out = NULL;
    return answer_wire(a, true, out, outlen);
}

/* Appends to a->ns the SOA of apex with the negative-caching TTL of RFC 2308 section 3:
 * the lesser of the SOA's TTL and its minimum. */
static enum mc_err answer_add_soa(struct zone_store *zs, const char *apex, struct answer *a)
{
    size_t before = ldns_rr_list_rr_count(a->ns);
    enum mc_err err = zone_collect_locked(zs, apex, LDNS_RR_TYPE_SOA, a->ns);
    if (err != MC_OK || ldns_rr_list_rr_count(a->ns) == before)
        return err;
    ldns_rr *soa = ldns_rr_list_rr(a->ns, before);
    uint32_t min = ldns_rdf2native_int32(ldns_rr_rdf(soa, 6));
    if (min < ldns_rr_ttl(soa))
        ldns_rr_set_ttl(soa, min);
    return MC_OK;
}

/* The compat-mode default address for name's A or AAAA query, at TTL 0 as challtestsrv. */
static enum mc_err answer_add_default(struct zone_store *zs, const ldns_rdf *owner,
                                      ldns_rr_type type, ldns_rr_list *an)
{
    uint8_t addr[16];
    size_t n = type == LDNS_RR_TYPE_A ? 4 : 16;
    bool have = type == LDNS_RR_TYPE_A ? zone_default_a_locked(zs, addr)
                                       : zone_default_aaaa_locked(zs, addr);
    if (!have)
        return MC_OK;
    ldns_rr *rr = ldns_rr_new();
    ldns_rdf *o = ldns_rdf_clone(owner);
    ldns_rdf *f = ldns_rdf_new_frm_data(
        type == LDNS_RR_TYPE_A ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA, n, addr);
    if (rr == NULL || o == NULL || f == NULL) {
        ldns_rr_free(rr);
        ldns_rdf_deep_free(o);
        ldns_rdf_deep_free(f);
        return MC_ERR_NOMEM;
    }
    ldns_rr_set_owner(rr, o);
    ldns_rr_set_type(rr, type);
    ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
    ldns_rr_set_ttl(rr, 0);
    ldns_rr_push_rdf(rr, f);
    if (!ldns_rr_list_push_rr(an, rr)) {
        ldns_rr_free(rr);
        return MC_ERR_NOMEM;
    }
    return MC_OK;
}

/* Fills a from the store for (qname, qtype). Lock held (read). */
static enum mc_err answer_lookup(struct zone_store *zs, const char *qname,
                                 const ldns_rdf *qname_rdf, ldns_rr_type qtype, struct answer *a)
{
    char apex[ZONE_NAME_MAX];
    ldns_rdf *owner = NULL;
    enum mc_err err = MC_OK;
    bool strict = zone_get_mode_locked(zs) == ZONE_MODE_STRICT;

    if (zone_is_servfail_locked(zs, qname)) {
        a->rcode = LDNS_RCODE_SERVFAIL;
        return MC_OK;
    }
    if (strict && !zone_find_apex_locked(zs, qname, apex, sizeof(apex))) {
        a->rcode = LDNS_RCODE_REFUSED;
        return MC_OK;
    }
    a->aa = true;

    /* Follow CNAMEs within the store (RFC 1034 section 4.3.2 step 3a), at most
     * ZONE_CNAME_CHAIN_MAX links, stopping at a name already visited. */
    char seen[ZONE_CNAME_CHAIN_MAX][ANSWER_NAME_TEXT];
    char cur[ANSWER_NAME_TEXT];
    size_t nseen = 0;
    bool chain_broken = false;
    memcpy(cur, qname, strlen(qname) + 1);
    if (qtype != LDNS_RR_TYPE_CNAME && qtype != LDNS_RR_TYPE_ANY) {
        for (;;) {
            size_t before = ldns_rr_list_rr_count(a->an);
            err = zone_collect_locked(zs, cur, LDNS_RR_TYPE_CNAME, a->an);
            if (err != MC_OK)
                return err;
            if (ldns_rr_list_rr_count(a->an) == before)
                break;
            memcpy(seen[nseen++], cur, strlen(cur) + 1);
            answer_rdf_text(ldns_rr_rdf(ldns_rr_list_rr(a->an, before), 0), cur, sizeof(cur));
            for (size_t i = 0; i < nseen; i++)
                if (strcmp(seen[i], cur) == 0)
                    chain_broken = true;
            if (chain_broken || nseen == ZONE_CNAME_CHAIN_MAX) {
                chain_broken = true;
                break;
            }
        }
    }
    if (chain_broken)
        return MC_OK;

    size_t cnames = ldns_rr_list_rr_count(a->an);
    err = zone_collect_locked(zs, cur, qtype, a->an);
    if (err != MC_OK)
        return err;
    bool found = ldns_rr_list_rr_count(a->an) > cnames;
    if (!found && !strict && (qtype == LDNS_RR_TYPE_A || qtype == LDNS_RR_TYPE_AAAA)) {
        /* challtestsrv answers every A/AAAA name without its own records with the default
         * address; a CNAME target gets it as well (the chain ends at a name without one). */
        if (cnames == 0) {
            err = answer_add_default(zs, qname_rdf, qtype, a->an);
        } else {
            owner = ldns_dname_new_frm_str(cur);
            err = owner == NULL ? MC_ERR_NOMEM : answer_add_default(zs, owner, qtype, a->an);
        }
        ldns_rdf_deep_free(owner);
        return err;
    }
    if (found || !strict)
        return MC_OK;
    /* Strict negative answers: NODATA if the name exists (or is an empty non-terminal),
     * else NXDOMAIN; the SOA of the closest apex either way (RFC 2308 sections 2.1, 2.2).
     * After a CNAME chain they are about the last name (RFC 6604). */
    if (nseen > 0 && !zone_find_apex_locked(zs, cur, apex, sizeof(apex)))
        return MC_OK;
    if (!zone_name_exists_locked(zs, cur))
        a->rcode = LDNS_RCODE_NXDOMAIN;
    return answer_add_soa(zs, apex, a);
}

/* Applies a fault rule's action. *done: the response is final (or there is none). */
static enum mc_err answer_fault(const struct fault_action *act, struct answer *a, bool tcp,
                                int64_t *delay_ms, bool *done, bool *drop)
{
    *done = false;
    *drop = false;
    switch (act->kind) {
    case DNS_FAULT_DROP:
        *done = true;
        *drop = true;
        return MC_OK;
    case DNS_FAULT_DELAY:
        *delay_ms = act->delay_ms;
        return MC_OK;
    case DNS_FAULT_TRUNCATE:
        /* Only UDP can be truncated; TCP answers normally, which is what a client that
         * retries over TCP after TC=1 must see. */
        if (!tcp) {
            a->aa = true;
            a->tc = true;
            *done = true;
        }
        return MC_OK;
    case DNS_FAULT_SERVFAIL:
        a->rcode = LDNS_RCODE_SERVFAIL;
        *done = true;
        return MC_OK;
    case DNS_FAULT_REFUSED:
        a->rcode = LDNS_RCODE_REFUSED;
        *done = true;
        return MC_OK;
    case DNS_FAULT_NXDOMAIN:
        a->rcode = LDNS_RCODE_NXDOMAIN;
        a->aa = true;
        *done = true;
        return MC_OK;
    default:
        return MC_OK;
    }
}

/* The ldns path. prelude_done: the fast path already recorded the query and consulted
 * the fault rules (and set *delay_ms), and the class and EDNS version are fine. */
static enum mc_err answer_query(struct dnsmock *d, const ldns_pkt *q, const uint8_t *wire,
                                size_t len, bool tcp, uint8_t **out, size_t *outlen,
                                int64_t *delay_ms, bool prelude_done)
{
    char qname[ANSWER_NAME_TEXT];
    char tbuf[16];
    enum mc_err err = MC_OK;
    struct answer a;
    memset(&a, 0, sizeof(a));
    a.q = q;
    a.question = ldns_rr_list_rr(ldns_pkt_question(q), 0);
    a.rcode = LDNS_RCODE_NOERROR;
    a.an = ldns_rr_list_new();
    a.ns = ldns_rr_list_new();
    if (a.an == NULL || a.ns == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    const ldns_rdf *qrdf = ldns_rr_owner(a.question);
    ldns_rr_type qtype = ldns_rr_get_type(a.question);
    ldns_rr_class qclass = ldns_rr_get_class(a.question);
    answer_rdf_text(qrdf, qname, sizeof(qname));
    a.clock = d->clock;

    if (prelude_done)
        goto lookup;
    if (d->history != NULL)
        history_add_dns(d->history, qname, (uint16_t)qtype, (uint16_t)qclass);
    if (ldns_pkt_tsig(q) != NULL) {
        /* A key, MAC or time that does not verify is answered NOTAUTH with the TSIG error
         * and nothing else, as for an update (RFC 8945 section 5.2). */
        tsig_check_request(d->tsig, d->clock, q, wire, len, &a.tsig);
        if (a.tsig.rcode != LDNS_RCODE_NOERROR) {
            a.rcode = a.tsig.rcode;
            goto send;
        }
    }

    if (ldns_pkt_edns(q) && ldns_pkt_edns_version(q) != 0) {
        /* RFC 6891 section 6.1.3: BADVERS (16) is extended rcode 1 with header rcode 0. */
        a.ext_rcode = 1;
        goto send;
    }
    if (qclass != LDNS_RR_CLASS_IN) {
        a.rcode = LDNS_RCODE_REFUSED;
        goto send;
    }
    if (d->faults != NULL) {
        struct fault_action act;
        bool done = false, drop = false;
        if (fault_engine_check(d->faults, qname,
                               answer_type_name((uint16_t)qtype, tbuf, sizeof(tbuf)), NULL, &act,
                               NULL)) {
            err = answer_fault(&act, &a, tcp, delay_ms, &done, &drop);
            if (err != MC_OK || drop)
                goto out;
            if (done)
                goto send;
        }
    }
lookup:
    if (d->zones == NULL) {
        a.rcode = LDNS_RCODE_SERVFAIL;
        goto send;
    }
    zone_rdlock(d->zones);
    err = answer_lookup(d->zones, qname, qrdf, qtype, &a);
    zone_unlock(d->zones);
    if (err != MC_OK)
        goto out;
send:
    err = answer_finish(&a, tcp, out, outlen);
out:
    ldns_rr_list_deep_free(a.an);
    ldns_rr_list_deep_free(a.ns);
    return err;
}

/* ---- the fast path ------------------------------------------------------------------
 * The common query (one question, class IN, at most a bare OPT, compat mode, A/AAAA/TXT
 * at a name without a CNAME) is parsed and answered by hand, without a single allocation
 * but the response, to reach the throughput target. It writes exactly the bytes the ldns
 * path would (test_answer.c runs every row both ways, and the fuzz target compares them);
 * anything else falls through to the ldns path. */

/* Off in tests, to run a row through the ldns path only. */
static bool answer_fast_enabled = true;

struct answer_fq {
    size_t qwlen; /* wire length of the question name, from offset 12 */
    size_t qend;  /* offset after the question */
    uint16_t qtype, qclass;
    bool edns;
    uint16_t udp_size;
};

static uint16_t answer_get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

/* Parses the header, question and optional OPT of a plain query; false for anything else
 * (the ldns path then looks at it). */
static bool answer_fast_parse(const uint8_t *msg, size_t len, struct answer_fq *f)
{
    if ((msg[2] & 0x78) != 0 || answer_get16(msg + 4) != 1 || answer_get16(msg + 6) != 0 ||
        answer_get16(msg + 8) != 0 || answer_get16(msg + 10) > 1)
        return false;
    size_t pos = 12;
    for (;;) {
        if (pos >= len || pos - 12 >= 255)
            return false;
        uint8_t l = msg[pos];
        if (l == 0)
            break;
        if ((l & 0xc0) != 0)
            return false; /* a pointer or extended label: let ldns judge it */
        pos += (size_t)l + 1;
    }
    pos++;
    f->qwlen = pos - 12;
    /* The root name: ldns writes it as its one byte, not a pointer; rare, so ldns's. */
    if (f->qwlen == 1 || f->qwlen > 255 || pos + 4 > len)
        return false;
    f->qtype = answer_get16(msg + pos);
    f->qclass = answer_get16(msg + pos + 2);
    pos += 4;
    f->qend = pos;
    f->edns = false;
    f->udp_size = 0;
    if (answer_get16(msg + 10) == 1) {
        /* Only a bare OPT: root owner, version 0, no options. */
        if (pos + 11 != len || msg[pos] != 0 || answer_get16(msg + pos + 1) != LDNS_RR_TYPE_OPT ||
            msg[pos + 6] != 0 || answer_get16(msg + pos + 9) != 0)
            return false;
        f->edns = true;
        f->udp_size = answer_get16(msg + pos + 3);
        pos += 11;
    }
    return pos == len;
}

/* Writes the response: header, the question as received, ans (ancount RRs), OPT when the
 * query had one; cut to header and question with TC=1 past the transport's limit. */
static enum mc_err answer_fast_emit(const uint8_t *msg, const struct answer_fq *f, bool tcp,
                                    uint8_t rcode, bool aa, bool tc, const uint8_t *ans,
                                    size_t anslen, uint16_t ancount, uint8_t **out, size_t *outlen)
{
    static const uint8_t opt[11] = {
        0, 0, 41, ANSWER_EDNS_SIZE >> 8, ANSWER_EDNS_SIZE & 0xff, 0, 0, 0, 0, 0, 0};
    size_t limit = ANSWER_TCP_MAX;
    if (!tcp)
        limit = f->edns && f->udp_size > ANSWER_UDP_MIN ? f->udp_size : ANSWER_UDP_MIN;
    size_t qlen = f->qend - 12;
    size_t total = 12 + qlen + anslen + (f->edns ? sizeof(opt) : 0);
    if (total > limit) {
        total -= anslen;
        anslen = 0;
        ancount = 0;
        tc = true;
    }
    uint8_t *r = malloc(total);
    if (r == NULL)
        return MC_ERR_NOMEM;
    r[0] = msg[0];
    r[1] = msg[1];
    r[2] = (uint8_t)(0x80 | (aa ? 0x04 : 0) | (tc ? 0x02 : 0) | (msg[2] & 0x01));
    r[3] = (uint8_t)((msg[3] & 0x10) | (rcode & 0x0f)); /* CD copied, as the ldns path */
    r[4] = 0;
    r[5] = 1;
    r[6] = (uint8_t)(ancount >> 8);
    r[7] = (uint8_t)ancount;
    r[8] = r[9] = r[10] = 0;
    r[11] = f->edns ? 1 : 0;
    memcpy(r + 12, msg + 12, qlen);
    if (anslen > 0)
        memcpy(r + 12 + qlen, ans, anslen);
    if (f->edns)
        memcpy(r + 12 + qlen + anslen, opt, sizeof(opt));
    *out = r;
    *outlen = total;
    return MC_OK;
}

/* *handled false: fall through to the ldns path, with history and faults already done. */
static enum mc_err answer_fast(struct dnsmock *d, const uint8_t *msg, const struct answer_fq *f,
                               bool tcp, uint8_t **out, size_t *outlen, int64_t *delay_ms,
                               bool *handled)
{
    char qname[ANSWER_NAME_TEXT];
    char tbuf[16];
    uint8_t ans[2048];
    size_t alen = 0;
    uint16_t count = 0;
    bool has_cname = false;
    *handled = true;
    answer_name_text(msg + 12, f->qwlen, qname, sizeof(qname));
    if (d->history != NULL)
        history_add_dns(d->history, qname, f->qtype, f->qclass);
    if (f->qclass != LDNS_RR_CLASS_IN)
        return answer_fast_emit(msg, f, tcp, LDNS_RCODE_REFUSED, false, false, NULL, 0, 0, out,
                                outlen);
    struct fault_action act;
    if (d->faults != NULL &&
        fault_engine_check(d->faults, qname, answer_type_name(f->qtype, tbuf, sizeof(tbuf)), NULL,
                           &act, NULL)) {
        switch (act.kind) {
        case DNS_FAULT_DROP:
            return MC_OK;
        case DNS_FAULT_DELAY:
            *delay_ms = act.delay_ms;
            break;
        case DNS_FAULT_TRUNCATE:
            if (!tcp)
                return answer_fast_emit(msg, f, tcp, LDNS_RCODE_NOERROR, true, true, NULL, 0, 0,
                                        out, outlen);
            break;
        case DNS_FAULT_SERVFAIL:
            return answer_fast_emit(msg, f, tcp, LDNS_RCODE_SERVFAIL, false, false, NULL, 0, 0, out,
                                    outlen);
        case DNS_FAULT_REFUSED:
            return answer_fast_emit(msg, f, tcp, LDNS_RCODE_REFUSED, false, false, NULL, 0, 0, out,
                                    outlen);
        case DNS_FAULT_NXDOMAIN:
            return answer_fast_emit(msg, f, tcp, LDNS_RCODE_NXDOMAIN, true, false, NULL, 0, 0, out,
                                    outlen);
        default:
            break;
        }
    }
    if (d->zones == NULL) {
        *handled = false;
        return MC_OK;
    }
    struct zone_store *zs = d->zones;
    zone_rdlock(zs);
    if (zone_is_servfail_locked(zs, qname)) {
        zone_unlock(zs);
        return answer_fast_emit(msg, f, tcp, LDNS_RCODE_SERVFAIL, false, false, NULL, 0, 0, out,
                                outlen);
    }
    enum mc_err err = MC_ERR_UNSUPPORTED;
    if (zone_get_mode_locked(zs) == ZONE_MODE_COMPAT)
        err = zone_answer_wire_locked(zs, qname, f->qtype, ans, sizeof(ans), &alen, &count,
                                      &has_cname);
    if (err != MC_OK || has_cname) {
        zone_unlock(zs);
        *handled = false;
        return MC_OK;
    }
    if (count == 0 && f->qtype != LDNS_RR_TYPE_TXT) {
        uint8_t addr[16];
        bool v4 = f->qtype == LDNS_RR_TYPE_A;
        uint8_t n = v4 ? 4 : 16;
        if (v4 ? zone_default_a_locked(zs, addr) : zone_default_aaaa_locked(zs, addr)) {
            static const uint8_t head[10] = {0xc0, 0x0c, 0, 0, 0, 1, 0, 0, 0, 0};
            memcpy(ans, head, sizeof(head));
            ans[3] = (uint8_t)f->qtype;
            ans[10] = 0;
            ans[11] = n;
            memcpy(ans + 12, addr, n);
            alen = 12 + (size_t)n;
            count = 1;
        }
    }
    zone_unlock(zs);
    return answer_fast_emit(msg, f, tcp, LDNS_RCODE_NOERROR, true, false, ans, alen, count, out,
                            outlen);
}

enum mc_err dns_handle_message(struct dnsmock *d, const uint8_t *msg, size_t len, bool tcp,
                               const char *client, uint8_t **out, size_t *outlen, int64_t *delay_ms)
{
    ldns_pkt *q = NULL;
    enum mc_err err = MC_OK;
    (void)client;
    *out = NULL;
    *outlen = 0;
    *delay_ms = 0;
    /* RFC 1035 section 4.1.1: nothing can be said to a sender whose header we cannot read,
     * and a response (QR=1) must never be answered, or two servers could loop. */
    if (msg == NULL || len < 12 || (msg[2] & 0x80) != 0)
        return MC_OK;
    if (len > ANSWER_TCP_MAX)
        return answer_header_only(msg, len, LDNS_RCODE_FORMERR, out, outlen);
    uint8_t opcode = (msg[2] >> 3) & 0x0f;
    if (opcode != LDNS_PACKET_QUERY && opcode != LDNS_PACKET_UPDATE)
        return answer_header_only(msg, len, LDNS_RCODE_NOTIMPL, out, outlen);
    bool prelude_done = false;
    struct answer_fq fq;
    if (answer_fast_enabled && opcode == LDNS_PACKET_QUERY && answer_fast_parse(msg, len, &fq)) {
        bool handled = false;
        err = answer_fast(d, msg, &fq, tcp, out, outlen, delay_ms, &handled);
        if (err != MC_OK || handled)
            return err;
        prelude_done = true; /* not answered there, but recorded and checked */
    }
    if (ldns_wire2pkt(&q, msg, len) != LDNS_STATUS_OK)
        return answer_header_only(msg, len, LDNS_RCODE_FORMERR, out, outlen);
    if (opcode == LDNS_PACKET_UPDATE) {
        err = dns_update_handle(d, q, msg, len, out, outlen);
        goto out;
    }
    if (ldns_pkt_qdcount(q) != 1 || ldns_rr_list_rr_count(ldns_pkt_question(q)) != 1) {
        err = answer_header_only(msg, len, LDNS_RCODE_FORMERR, out, outlen);
        goto out;
    }
    err = answer_query(d, q, msg, len, tcp, out, outlen, delay_ms, prelude_done);
out:
    ldns_pkt_free(q);
    return err;
}
