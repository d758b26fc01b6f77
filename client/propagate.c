/* propagate.c: the client's DNS transport and the authoritative propagation check
 * (propagate.h). Messages are built and parsed with ldns; the sockets are ours so that
 * every wait is bounded by one deadline and the raw answer is at hand for TSIG. */
#include "client/propagate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "common/clock.h"
#include "common/log.h"

#define PROP_QUERY_MAX_MS 2000 /* one query's wait inside the overall deadline */
#define PROP_QUERY_MIN_MS 100
#define PROP_EDNS_SIZE 1232 /* DNS flag day 2020's safe UDP size */
#define PROP_LAST_MAX 256   /* what a server last said, for the timeout log */
#define PROP_MAX_LABELS 128
#define PROP_CNAME_MAX 8 /* CNAME links followed from the record name */

/* ---- addresses ----------------------------------------------------------------------- */

enum mc_err prop_parse_addr(const char *s, uint16_t default_port, struct sockaddr_storage *ss,
                            socklen_t *len)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *port = NULL, *colon;
    size_t hl;
    unsigned long pv = default_port;

    if (s == NULL || *s == '\0')
        return MC_ERR_INVALID;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL)
            return MC_ERR_INVALID;
        hl = (size_t)(end - s - 1);
        if (hl >= sizeof host)
            return MC_ERR_INVALID;
        memcpy(host, s + 1, hl);
        host[hl] = '\0';
        if (end[1] == ':')
            port = end + 2;
        else if (end[1] != '\0')
            return MC_ERR_INVALID;
    } else {
        colon = strchr(s, ':');
        /* One colon: IPv4 with a port. More: a bare IPv6 address. */
        if (colon != NULL && strchr(colon + 1, ':') == NULL) {
            hl = (size_t)(colon - s);
            port = colon + 1;
        } else {
            hl = strlen(s);
        }
        if (hl >= sizeof host)
            return MC_ERR_INVALID;
        memcpy(host, s, hl);
        host[hl] = '\0';
    }
    if (port != NULL) {
        char *end = NULL;
        if (*port < '0' || *port > '9')
            return MC_ERR_INVALID;
        errno = 0;
        pv = strtoul(port, &end, 10);
        if (errno != 0 || *end != '\0' || pv == 0 || pv > 65535)
            return MC_ERR_INVALID;
    }
    memset(ss, 0, sizeof *ss);
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)pv);
        *len = sizeof *in;
        return MC_OK;
    }
    if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)pv);
        *len = sizeof *in6;
        return MC_OK;
    }
    return MC_ERR_INVALID;
}

static const char *prop_addr_text(const struct sockaddr_storage *ss, char *buf, size_t n)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        port = ntohs(in->sin_port);
        snprintf(buf, n, "%s:%u", ip, port);
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        port = ntohs(in6->sin6_port);
        snprintf(buf, n, "[%s]:%u", ip, port);
    }
    return buf;
}

/* ---- transport ----------------------------------------------------------------------- */

static int prop_remaining(int64_t deadline)
{
    int64_t left = deadline - clock_now_ms(NULL);
    return left <= 0 ? 0 : (int)(left > 60000 ? 60000 : left);
}

/* Waits for events on fd until deadline. true when they came. */
static bool prop_wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd p = {fd, events, 0};
        int left = prop_remaining(deadline);
        int r;
        if (left == 0)
            return false;
        r = poll(&p, 1, left);
        if (r > 0)
            return true;
        if (r == 0 || errno != EINTR)
            return false;
    }
}

static enum mc_err prop_udp(const struct sockaddr_storage *ss, socklen_t sslen, const uint8_t *wire,
                            size_t n, int64_t deadline, uint8_t *buf, size_t *got)
{
    enum mc_err err = MC_ERR_TIMEOUT;
    int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return MC_ERR_IO;
    /* connect(): only the server's datagrams get in, and a closed port shows up as
     * ECONNREFUSED instead of a silent wait. */
    if (connect(fd, (const struct sockaddr *)ss, sslen) != 0 ||
        send(fd, wire, n, 0) != (ssize_t)n) {
        err = MC_ERR_IO;
        goto out;
    }
    while (prop_wait_fd(fd, POLLIN, deadline)) {
        ssize_t r = recv(fd, buf, PROP_MSG_MAX, 0);
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            err = MC_ERR_IO;
            goto out;
        }
        /* Same ID and QR set; anything else is a stray datagram, not the answer. */
        if (r >= 12 && buf[0] == wire[0] && buf[1] == wire[1] && (buf[2] & 0x80) != 0) {
            *got = (size_t)r;
            err = MC_OK;
            goto out;
        }
    }
out:
    close(fd);
    return err;
}

static enum mc_err prop_tcp_io(int fd, uint8_t *p, size_t n, bool writing, int64_t deadline)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r;
        if (!prop_wait_fd(fd, writing ? POLLOUT : POLLIN, deadline))
            return MC_ERR_TIMEOUT;
        r = writing ? send(fd, p + done, n - done, MSG_NOSIGNAL) : recv(fd, p + done, n - done, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0)
            return MC_ERR_IO;
        done += (size_t)r;
    }
    return MC_OK;
}

static enum mc_err prop_tcp(const struct sockaddr_storage *ss, socklen_t sslen, const uint8_t *wire,
                            size_t n, int64_t deadline, uint8_t *buf, size_t *got)
{
    enum mc_err err = MC_ERR_IO;
    uint8_t hdr[2];
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    size_t len;
    uint8_t *out = NULL;
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0)
        return MC_ERR_IO;
    if (n > PROP_MSG_MAX) {
        err = MC_ERR_TOO_BIG;
        goto out;
    }
    if (connect(fd, (const struct sockaddr *)ss, sslen) != 0) {
        if (errno != EINPROGRESS)
            goto out;
        if (!prop_wait_fd(fd, POLLOUT, deadline)) {
            err = MC_ERR_TIMEOUT;
            goto out;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0)
            goto out;
    }
    /* RFC 1035 section 4.2.2: a two-byte length before each message. */
    out = malloc(n + 2);
    if (out == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    out[0] = (uint8_t)(n >> 8);
    out[1] = (uint8_t)n;
    memcpy(out + 2, wire, n);
    err = prop_tcp_io(fd, out, n + 2, true, deadline);
    if (err == MC_OK)
        err = prop_tcp_io(fd, hdr, 2, false, deadline);
    if (err != MC_OK)
        goto out;
    len = ((size_t)hdr[0] << 8) | hdr[1];
    if (len < 12) {
        err = MC_ERR_INVALID;
        goto out;
    }
    err = prop_tcp_io(fd, buf, len, false, deadline);
    if (err == MC_OK && (buf[0] != wire[0] || buf[1] != wire[1]))
        err = MC_ERR_INVALID;
    if (err == MC_OK)
        *got = len;
out:
    free(out);
    close(fd);
    return err;
}

enum mc_err prop_exchange(const struct sockaddr_storage *ss, socklen_t sslen, const uint8_t *wire,
                          size_t n, int timeout_ms, uint8_t **out, size_t *outlen)
{
    enum mc_err err;
    int64_t deadline = clock_now_ms(NULL) + (timeout_ms > 0 ? timeout_ms : 1);
    uint8_t *buf = NULL;
    size_t got = 0;

    if (n < 12)
        return MC_ERR_INVALID;
    buf = malloc(PROP_MSG_MAX);
    if (buf == NULL)
        return MC_ERR_NOMEM;
    /* A message over the UDP limit goes over TCP right away (RFC 7766 section 5). */
    if (n > 512)
        err = prop_tcp(ss, sslen, wire, n, deadline, buf, &got);
    else
        err = prop_udp(ss, sslen, wire, n, deadline, buf, &got);
    if (err == MC_OK && n <= 512 && (buf[2] & 0x02) != 0) { /* TC */
        log_msg(LOGL_DEBUG, "solver.dns.tcp", "reason=truncated");
        err = prop_tcp(ss, sslen, wire, n, deadline, buf, &got);
    }
    if (err == MC_OK) {
        *out = buf;
        *outlen = got;
        buf = NULL;
    }
    free(buf);
    return err;
}

enum mc_err prop_query(const struct sockaddr_storage *ss, socklen_t sslen, const char *name,
                       ldns_rr_type type, bool rd, int timeout_ms, ldns_pkt **reply)
{
    enum mc_err err = MC_ERR_NOMEM;
    ldns_pkt *q = NULL, *r = NULL;
    ldns_rdf *owner = NULL;
    uint8_t *wire = NULL, *ans = NULL;
    size_t wlen = 0, alen = 0;
    uint16_t id = 0;

    owner = ldns_dname_new_frm_str(name);
    if (owner == NULL) {
        err = MC_ERR_INVALID;
        goto out;
    }
    q = ldns_pkt_query_new(owner, type, LDNS_RR_CLASS_IN, rd ? LDNS_RD : 0);
    owner = NULL; /* the packet's now */
    if (q == NULL)
        goto out;
    /* The ID is the only thing that ties a UDP answer to its question: unpredictable. */
    if (RAND_bytes((unsigned char *)&id, sizeof id) != 1) {
        err = MC_ERR_CRYPTO;
        goto out;
    }
    ldns_pkt_set_id(q, id);
    ldns_pkt_set_edns_udp_size(q, PROP_EDNS_SIZE);
    if (ldns_pkt2wire(&wire, q, &wlen) != LDNS_STATUS_OK)
        goto out;
    err = prop_exchange(ss, sslen, wire, wlen, timeout_ms, &ans, &alen);
    if (err != MC_OK)
        goto out;
    if (ldns_wire2pkt(&r, ans, alen) != LDNS_STATUS_OK) {
        err = MC_ERR_INVALID;
        goto out;
    }
    *reply = r;
    r = NULL;
out:
    ldns_rdf_deep_free(owner);
    ldns_pkt_free(q);
    ldns_pkt_free(r);
    free(wire);
    free(ans);
    return err;
}

/* ---- the propagation check ----------------------------------------------------------- */

/* What one address of a nameserver said last. A nameserver host is one server reachable
 * at several addresses: it counts as having the record when one of them answers with it,
 * an address that never answers (a v6 address of a v4-only test server, a firewalled
 * path) does not hold it back, but one that answers without the value does (a secondary
 * that has not caught up: the CA may well ask that one). */
enum prop_said {
    PROP_UNASKED = 0,
    PROP_SILENT, /* no DNS answer: timeout, refused port, unreachable */
    PROP_OTHER,  /* an answer without the value: NXDOMAIN, NODATA, other values, an error */
    PROP_HAS,    /* an answer with the value; not asked again */
};

struct prop_server {
    struct sockaddr_storage ss;
    socklen_t len;
    size_t ns; /* index into prop_state.ns_names */
    enum prop_said said;
    char last[PROP_LAST_MAX];
};

struct prop_state {
    const struct propagation *p;
    struct sockaddr_storage resolver;
    socklen_t resolver_len;
    int64_t deadline;
    char target[LDNS_MAX_DOMAINLEN + 2]; /* the record's name after any CNAME chain */
    char zone[LDNS_MAX_DOMAINLEN + 2];
    char ns_names[PROP_MAX_SERVERS][LDNS_MAX_DOMAINLEN + 2];
    size_t nns;
    struct prop_server servers[PROP_MAX_SERVERS];
    size_t nservers;
    char why[PROP_LAST_MAX]; /* why discovery has not succeeded yet */
};

static int prop_query_timeout(const struct prop_state *st)
{
    int left = prop_remaining(st->deadline);
    if (left > PROP_QUERY_MAX_MS)
        return PROP_QUERY_MAX_MS;
    return left < PROP_QUERY_MIN_MS ? PROP_QUERY_MIN_MS : left;
}

/* The first "nameserver" of /etc/resolv.conf. */
static enum mc_err prop_system_resolver(char *out, size_t n)
{
    char line[512];
    enum mc_err err = MC_ERR_NOT_FOUND;
    FILE *f = fopen("/etc/resolv.conf", "r");
    if (f == NULL)
        return MC_ERR_NOT_FOUND;
    while (fgets(line, sizeof line, f) != NULL) {
        char addr[128];
        if (sscanf(line, " nameserver %127s", addr) == 1) {
            snprintf(out, n, "%s", addr);
            err = MC_OK;
            break;
        }
    }
    fclose(f);
    return err;
}

static bool prop_name_eq(const ldns_rdf *a, const char *b)
{
    ldns_rdf *bd = ldns_dname_new_frm_str(b);
    bool eq = bd != NULL && ldns_dname_compare(a, bd) == 0;
    ldns_rdf_deep_free(bd);
    return eq;
}

/* Adds an address of nameserver ns. The same address under two NS names is kept twice on
 * purpose: each name is judged on its own addresses. */
static void prop_add_server(struct prop_state *st, size_t ns, int family, const void *addr)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(st->p->auth_port);
        memcpy(&in->sin_addr, addr, 4);
        len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(st->p->auth_port);
        memcpy(&in6->sin6_addr, addr, 16);
        len = sizeof *in6;
    }
    for (size_t i = 0; i < st->nservers; i++)
        if (st->servers[i].ns == ns && st->servers[i].len == len &&
            memcmp(&st->servers[i].ss, &ss, len) == 0)
            return;
    if (st->nservers >= PROP_MAX_SERVERS)
        return;
    memset(&st->servers[st->nservers], 0, sizeof st->servers[0]);
    st->servers[st->nservers].ss = ss;
    st->servers[st->nservers].len = len;
    st->servers[st->nservers].ns = ns;
    snprintf(st->servers[st->nservers].last, PROP_LAST_MAX, "not asked yet");
    st->nservers++;
}

/* Adds the A/AAAA records named owner in list as addresses of nameserver ns; returns how
 * many matched. */
static size_t prop_take_addrs(struct prop_state *st, size_t ns, const ldns_rr_list *list,
                              const ldns_rdf *owner)
{
    size_t n = 0;
    for (size_t i = 0; list != NULL && i < ldns_rr_list_rr_count(list); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(list, i);
        const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
        if (rd == NULL || ldns_dname_compare(ldns_rr_owner(rr), owner) != 0)
            continue;
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_A && ldns_rdf_size(rd) == 4) {
            prop_add_server(st, ns, AF_INET, ldns_rdf_data(rd));
            n++;
        } else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_AAAA && ldns_rdf_size(rd) == 16) {
            prop_add_server(st, ns, AF_INET6, ldns_rdf_data(rd));
            n++;
        }
    }
    return n;
}

/* The addresses of one NS name: glue from the NS answer when present, else A and AAAA
 * through the resolver. */
static void prop_resolve_ns(struct prop_state *st, const ldns_rdf *ns, const ldns_pkt *glue)
{
    static const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA};
    char *name = NULL;
    size_t idx;

    if (st->nns >= PROP_MAX_SERVERS)
        return;
    name = ldns_rdf2str(ns);
    if (name == NULL)
        return;
    idx = st->nns++;
    snprintf(st->ns_names[idx], sizeof st->ns_names[idx], "%s", name);
    if (glue != NULL && prop_take_addrs(st, idx, ldns_pkt_additional(glue), ns) > 0)
        goto out;
    for (size_t t = 0; t < 2; t++) {
        ldns_pkt *r = NULL;
        if (prop_query(&st->resolver, st->resolver_len, name, types[t], true,
                       prop_query_timeout(st), &r) == MC_OK &&
            ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR)
            (void)prop_take_addrs(st, idx, ldns_pkt_answer(r), ns);
        ldns_pkt_free(r);
    }
out:
    free(name);
}

/* Follows a CNAME chain from fqdn through the resolver, one CNAME query per link, into
 * st->target: the dns-01 delegation (`_acme-challenge.example.com CNAME
 * _acme-challenge.delegated.example.net`) puts the TXT, and so the servers to ask, at the
 * chain's end, where the CA's resolver finds it. At most PROP_CNAME_MAX links; a loop or
 * a longer chain is MC_ERR_INVALID (waiting does not fix it). A name without a CNAME,
 * NXDOMAIN included, ends the chain. Resolver failures are returned as they are. */
static enum mc_err prop_follow_cname(struct prop_state *st, const char *fqdn)
{
    enum mc_err err = MC_OK;
    ldns_rdf *seen[PROP_CNAME_MAX + 1] = {NULL};
    size_t nseen = 0;
    ldns_pkt *r = NULL;
    char *text = NULL;

    seen[0] = ldns_dname_new_frm_str(fqdn);
    if (seen[0] == NULL)
        return MC_ERR_INVALID;
    nseen = 1;
    for (;;) {
        const ldns_rdf *cur = seen[nseen - 1];
        ldns_rr_list *cn = NULL;
        const ldns_rdf *next = NULL;
        free(text);
        text = ldns_rdf2str(cur);
        if (text == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        ldns_pkt_free(r);
        r = NULL;
        err = prop_query(&st->resolver, st->resolver_len, text, LDNS_RR_TYPE_CNAME, true,
                         prop_query_timeout(st), &r);
        if (err != MC_OK) {
            snprintf(st->why, sizeof st->why, "resolver: CNAME %.200s: %s", text, mc_strerror(err));
            /* A garbled answer is the resolver's trouble, retried like silence; only the
             * chain itself earns MC_ERR_INVALID. */
            if (err == MC_ERR_INVALID)
                err = MC_ERR_IO;
            goto out;
        }
        if (ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR)
            cn = ldns_pkt_rr_list_by_name_and_type(r, cur, LDNS_RR_TYPE_CNAME, LDNS_SECTION_ANSWER);
        if (cn != NULL && ldns_rr_list_rr_count(cn) > 0)
            next = ldns_rr_rdf(ldns_rr_list_rr(cn, 0), 0);
        if (next == NULL || ldns_rdf_get_type(next) != LDNS_RDF_TYPE_DNAME) {
            ldns_rr_list_deep_free(cn);
            break; /* the end of the chain: cur holds the record */
        }
        for (size_t i = 0; i < nseen; i++) {
            if (ldns_dname_compare(seen[i], next) == 0) {
                snprintf(st->why, sizeof st->why, "CNAME loop at %.200s", text);
                ldns_rr_list_deep_free(cn);
                err = MC_ERR_INVALID;
                goto out;
            }
        }
        if (nseen > PROP_CNAME_MAX) {
            snprintf(st->why, sizeof st->why, "CNAME chain from %.100s longer than %d", fqdn,
                     PROP_CNAME_MAX);
            ldns_rr_list_deep_free(cn);
            err = MC_ERR_INVALID;
            goto out;
        }
        seen[nseen] = ldns_rdf_clone(next);
        ldns_rr_list_deep_free(cn);
        if (seen[nseen] == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        nseen++;
    }
    snprintf(st->target, sizeof st->target, "%s", text);
    if (nseen > 1)
        log_msg(LOGL_INFO, "solver.dns.cname", "fqdn=%s target=%s links=%zu", fqdn, st->target,
                nseen - 1);
out:
    for (size_t i = 0; i < nseen; i++)
        ldns_rdf_deep_free(seen[i]);
    ldns_pkt_free(r);
    free(text);
    return err;
}

/* Finds the zone of fqdn and its servers' addresses (RFC 1034 section 4.3.2's walk, done
 * from the client's side: the nearest name upwards that owns an NS set). */
static enum mc_err prop_discover(struct prop_state *st, const char *fqdn)
{
    enum mc_err err = MC_ERR_NOT_FOUND;
    ldns_pkt *r = NULL;
    ldns_rdf *name = NULL, *parent = NULL;
    char *text = NULL;

    name = ldns_dname_new_frm_str(fqdn);
    if (name == NULL)
        return MC_ERR_INVALID;
    for (int depth = 0; depth < PROP_MAX_LABELS && ldns_dname_label_count(name) > 0; depth++) {
        ldns_rr_list *ns = NULL;
        enum mc_err qe;
        free(text);
        text = ldns_rdf2str(name);
        if (text == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        ldns_pkt_free(r);
        r = NULL;
        qe = prop_query(&st->resolver, st->resolver_len, text, LDNS_RR_TYPE_NS, true,
                        prop_query_timeout(st), &r);
        if (qe != MC_OK) {
            snprintf(st->why, sizeof st->why, "resolver: NS %s: %s", text, mc_strerror(qe));
            err = qe;
            goto out;
        }
        ns = ldns_pkt_rr_list_by_name_and_type(r, name, LDNS_RR_TYPE_NS, LDNS_SECTION_ANSWER);
        if (ns == NULL) {
            /* No NS here. An SOA in the authority section names the zone outright. */
            ldns_rr_list *soa =
                ldns_pkt_rr_list_by_type(r, LDNS_RR_TYPE_SOA, LDNS_SECTION_AUTHORITY);
            if (soa != NULL && ldns_rr_list_rr_count(soa) > 0 &&
                ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(soa, 0)), name) != 0 &&
                ldns_dname_is_subdomain(name, ldns_rr_owner(ldns_rr_list_rr(soa, 0)))) {
                ldns_rdf *zone = ldns_rdf_clone(ldns_rr_owner(ldns_rr_list_rr(soa, 0)));
                ldns_rr_list_deep_free(soa);
                if (zone == NULL) {
                    err = MC_ERR_NOMEM;
                    goto out;
                }
                ldns_rdf_deep_free(name);
                name = zone;
                continue; /* ask that name for its NS next */
            }
            ldns_rr_list_deep_free(soa);
            parent = ldns_dname_left_chop(name);
            ldns_rdf_deep_free(name);
            name = parent;
            parent = NULL;
            if (name == NULL) {
                err = MC_ERR_NOMEM;
                goto out;
            }
            continue;
        }
        snprintf(st->zone, sizeof st->zone, "%s", text);
        for (size_t i = 0; i < ldns_rr_list_rr_count(ns); i++) {
            const ldns_rdf *target = ldns_rr_rdf(ldns_rr_list_rr(ns, i), 0);
            if (target != NULL)
                prop_resolve_ns(st, target, r);
        }
        ldns_rr_list_deep_free(ns);
        if (st->nservers == 0) {
            snprintf(st->why, sizeof st->why, "zone %.200s: no address for any NS", st->zone);
            st->nns = 0; /* asked again next round */
            err = MC_ERR_NOT_FOUND;
        } else {
            err = MC_OK;
        }
        goto out;
    }
    snprintf(st->why, sizeof st->why, "no NS set above %.200s", fqdn);
out:
    ldns_pkt_free(r);
    ldns_rdf_deep_free(name);
    free(text);
    return err;
}

/* The value of one TXT RR: its character-strings concatenated (RFC 8555 section 8.4 has
 * one string; long values are split by some providers). */
static bool prop_txt_value(const ldns_rr *rr, char *out, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
        const ldns_rdf *rd = ldns_rr_rdf(rr, i);
        const uint8_t *d = ldns_rdf_data(rd);
        size_t sz = ldns_rdf_size(rd);
        if (sz == 0 || d[0] != sz - 1 || o + sz - 1 >= n)
            return false;
        memcpy(out + o, d + 1, sz - 1);
        o += sz - 1;
    }
    out[o] = '\0';
    return true;
}

static const char *prop_rcode_name(ldns_pkt_rcode rc)
{
    switch (rc) {
    case LDNS_RCODE_NXDOMAIN:
        return "NXDOMAIN";
    case LDNS_RCODE_SERVFAIL:
        return "SERVFAIL";
    case LDNS_RCODE_REFUSED:
        return "REFUSED";
    case LDNS_RCODE_FORMERR:
        return "FORMERR";
    case LDNS_RCODE_NOTIMPL:
        return "NOTIMP";
    default:
        return "error";
    }
}

/* Asks one server for the TXT at fqdn; what it said (srv->last tells the details). */
static enum prop_said prop_check_server(struct prop_state *st, struct prop_server *srv,
                                        const char *fqdn, const char *value)
{
    ldns_pkt *r = NULL;
    ldns_rr_list *txt = NULL;
    enum prop_said said = PROP_OTHER;
    enum mc_err err;
    size_t o = 0, nvals = 0;

    /* RD clear: an authoritative answer, not a cached one. */
    err = prop_query(&srv->ss, srv->len, fqdn, LDNS_RR_TYPE_TXT, false, prop_query_timeout(st), &r);
    if (err != MC_OK) {
        snprintf(srv->last, sizeof srv->last, "no answer (%s)", mc_strerror(err));
        /* Only silence is silence: bytes that do not parse came from something that
         * listens there, and it is not saying the value. */
        if (err == MC_ERR_TIMEOUT || err == MC_ERR_IO)
            said = PROP_SILENT;
        goto out;
    }
    if (ldns_pkt_get_rcode(r) != LDNS_RCODE_NOERROR) {
        snprintf(srv->last, sizeof srv->last, "%s", prop_rcode_name(ldns_pkt_get_rcode(r)));
        goto out;
    }
    txt = ldns_pkt_rr_list_by_type(r, LDNS_RR_TYPE_TXT, LDNS_SECTION_ANSWER);
    o = (size_t)snprintf(srv->last, sizeof srv->last, "NODATA");
    for (size_t i = 0; txt != NULL && i < ldns_rr_list_rr_count(txt); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(txt, i);
        char v[1024];
        if (!prop_name_eq(ldns_rr_owner(rr), fqdn) || !prop_txt_value(rr, v, sizeof v))
            continue;
        if (strcmp(v, value) == 0) {
            said = PROP_HAS;
            break;
        }
        /* Collect the other values for the log: often the previous challenge's. */
        if (nvals++ == 0)
            o = (size_t)snprintf(srv->last, sizeof srv->last, "values=%.60s", v);
        else if (o < sizeof srv->last)
            o += (size_t)snprintf(srv->last + o, sizeof srv->last - o, ",%.60s", v);
    }
out:
    ldns_rr_list_deep_free(txt);
    ldns_pkt_free(r);
    return said;
}

/* True when nameserver ns has the record: one of its addresses answered with it and none
 * answered without it (silent ones aside). A nameserver without addresses is not judged. */
static bool prop_ns_ready(const struct prop_state *st, size_t ns)
{
    bool has = false, any = false;
    for (size_t i = 0; i < st->nservers; i++) {
        if (st->servers[i].ns != ns)
            continue;
        any = true;
        if (st->servers[i].said == PROP_HAS)
            has = true;
        else if (st->servers[i].said != PROP_SILENT)
            return false;
    }
    return has || !any;
}

static const char *prop_said_name(enum prop_said s)
{
    switch (s) {
    case PROP_HAS:
        return "ok";
    case PROP_SILENT:
        return "silent";
    case PROP_OTHER:
        return "no-value";
    default:
        return "unasked";
    }
}

static void prop_sleep_ms(int64_t ms)
{
    struct timespec ts;
    if (ms <= 0)
        return;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

enum mc_err prop_wait(const struct propagation *p, const char *fqdn, const char *value)
{
    enum mc_err err;
    struct prop_state *st = NULL;
    char resolver[128];
    char buf[80];
    bool all = false;

    if (p == NULL || fqdn == NULL || value == NULL)
        return MC_ERR_INVALID;
    st = calloc(1, sizeof *st);
    if (st == NULL)
        return MC_ERR_NOMEM;
    st->p = p;
    if (p->resolver != NULL) {
        snprintf(resolver, sizeof resolver, "%s", p->resolver);
    } else {
        err = prop_system_resolver(resolver, sizeof resolver);
        if (err != MC_OK) {
            log_msg(LOGL_ERROR, "solver.dns.propagation", "reason=\"no resolver configured\"");
            goto out;
        }
    }
    err = prop_parse_addr(resolver, 53, &st->resolver, &st->resolver_len);
    if (err != MC_OK) {
        log_msg(LOGL_ERROR, "solver.dns.propagation", "reason=\"bad resolver address\" resolver=%s",
                resolver);
        goto out;
    }
    st->deadline = clock_now_ms(NULL) + (int64_t)(p->timeout_s > 0 ? p->timeout_s : 0) * 1000;
    snprintf(st->why, sizeof st->why, "not asked yet");
    for (unsigned round = 0;; round++) {
        int64_t next = clock_now_ms(NULL) + (p->interval_ms > 0 ? p->interval_ms : 1000);
        if (st->nservers == 0) {
            /* Discovery is retried too: a zone that is being created shows up late. A
             * CNAME loop or an overlong chain is a configuration error: no retry. */
            enum mc_err de = prop_follow_cname(st, fqdn);
            if (de == MC_ERR_INVALID || de == MC_ERR_NOMEM) {
                log_msg(LOGL_ERROR, "solver.dns.propagation", "fqdn=%s result=error reason=\"%s\"",
                        fqdn, de == MC_ERR_NOMEM ? "out of memory" : st->why);
                err = de;
                goto out;
            }
            if (de == MC_OK && prop_discover(st, st->target) == MC_OK)
                log_msg(LOGL_DEBUG, "solver.dns.zone", "fqdn=%s name=%s zone=%s servers=%zu", fqdn,
                        st->target, st->zone, st->nservers);
        }
        if (st->nservers > 0) {
            for (size_t i = 0; i < st->nservers; i++)
                if (st->servers[i].said != PROP_HAS)
                    st->servers[i].said = prop_check_server(st, &st->servers[i], st->target, value);
            all = true;
            for (size_t ns = 0; ns < st->nns && all; ns++)
                all = prop_ns_ready(st, ns);
            if (all)
                break;
        }
        if (clock_now_ms(NULL) >= st->deadline || round > 1000000u)
            break;
        next = next < st->deadline ? next : st->deadline;
        prop_sleep_ms(next - clock_now_ms(NULL));
    }
    if (all) {
        log_msg(LOGL_INFO, "solver.dns.propagated", "fqdn=%s name=%s zone=%s nameservers=%zu", fqdn,
                st->target, st->zone, st->nns);
        err = MC_OK;
        goto out;
    }
    err = MC_ERR_TIMEOUT;
    if (st->nservers == 0) {
        log_msg(LOGL_WARN, "solver.dns.propagation", "fqdn=%s result=timeout reason=\"%s\"", fqdn,
                st->why);
        goto out;
    }
    for (size_t i = 0; i < st->nservers; i++) {
        const struct prop_server *srv = &st->servers[i];
        char q[PROP_LAST_MAX + 8];
        log_msg(LOGL_WARN, "solver.dns.propagation",
                "fqdn=%s name=%s zone=%s ns=%s server=%s ns_ready=%s result=%s last=%s", fqdn,
                st->target, st->zone, st->ns_names[srv->ns],
                prop_addr_text(&srv->ss, buf, sizeof buf),
                prop_ns_ready(st, srv->ns) ? "yes" : "no", prop_said_name(srv->said),
                log_quote(srv->said == PROP_HAS ? "has the value" : srv->last, q, sizeof q));
    }
out:
    free(st);
    return err;
}
