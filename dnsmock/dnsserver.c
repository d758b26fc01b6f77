/* dnsmock/dnsserver.c: the UDP and TCP listeners on one port.
 *
 * UDP: udp_threads workers, each with its own SO_REUSEPORT socket so the kernel spreads
 * the load, reading and writing in recvmmsg/sendmmsg batches. A "delay" fault parks the
 * answer in the worker's small delay queue instead of sleeping, so other queries go on.
 * TCP (RFC 7766): one acceptor, one thread per connection up to DNS_TCP_MAX_CONNS,
 * messages answered in order. Every blocking call is a poll() with a short timeout, so a
 * stop is seen within DNS_POLL_MS and every thread is joined. */
#include "dnsmock/dnsserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "dnsmock/answer.h"
#include "dnsmock/internal.h"

#define DNS_POLL_MS 100
#define DNS_UDP_BATCH 32
#define DNS_UDP_BUF 4096 /* larger UDP queries are not DNS we answer */
#define DNS_UDP_MAX_THREADS 16
#define DNS_DELAY_QUEUE 256  /* parked delayed answers per worker; beyond: dropped */
#define DNS_TCP_READ_MS 5000 /* a started message must arrive within this */
#define DNS_TCP_WRITE_MS 5000
#define DNS_PORT_TRIES 16 /* port 0: attempts to find a port free for UDP and TCP */
#define DNS_THREAD_STACK (256 * 1024)

struct dns_delayed {
    int64_t due_ms;
    uint8_t *wire;
    size_t len;
    struct sockaddr_storage peer;
    socklen_t peerlen;
};

struct dns_udp_worker {
    struct dns_server *s;
    int fd;
    pthread_t th;
    bool started;
    struct dns_delayed *delayed;  /* DNS_DELAY_QUEUE slots; wire NULL = free */
    uint8_t (*bufs)[DNS_UDP_BUF]; /* DNS_UDP_BATCH receive buffers */
    size_t ndelayed;
};

struct dns_tcp_conn {
    struct dns_server *s;
    int fd;
    pthread_t th;
    bool used;            /* guarded by s->lock */
    atomic_bool finished; /* the thread has returned; join it */
    char peer[INET6_ADDRSTRLEN];
};

struct dns_server {
    struct dnsmock *d;
    uint16_t port;
    atomic_bool stop;
    unsigned nudp;
    struct dns_udp_worker udp[DNS_UDP_MAX_THREADS];
    int tcp_fd;
    pthread_t acceptor;
    bool acceptor_started;
    pthread_mutex_t lock;
    struct dns_tcp_conn conns[DNS_TCP_MAX_CONNS];
};

static int64_t dns_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void dns_peer_text(const struct sockaddr_storage *ss, char *out, size_t n)
{
    out[0] = '\0';
    if (ss->ss_family == AF_INET && n >= INET_ADDRSTRLEN) {
        /* By hand: glibc's inet_ntop formats with sprintf, a visible cost per query. */
        const uint8_t *a = (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
        size_t o = 0;
        for (int i = 0; i < 4; i++) {
            unsigned v = a[i];
            if (v >= 100)
                out[o++] = (char)('0' + v / 100);
            if (v >= 10)
                out[o++] = (char)('0' + v / 10 % 10);
            out[o++] = (char)('0' + v % 10);
            out[o++] = i < 3 ? '.' : '\0';
        }
    } else if (ss->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, out, (socklen_t)n);
}

/* ---- addresses and sockets --------------------------------------------------------- */

/* Parses "host:port", "[v6]:port" or ":port" into ss. */
static enum mc_err dns_parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *sslen)
{
    char host[256];
    const char *port = NULL;
    size_t hl = 0;
    if (addr == NULL)
        return MC_ERR_INVALID;
    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        if (end == NULL || end[1] != ':')
            return MC_ERR_INVALID;
        hl = (size_t)(end - addr - 1);
        if (hl >= sizeof(host))
            return MC_ERR_INVALID;
        memcpy(host, addr + 1, hl);
        port = end + 2;
    } else {
        const char *colon = strrchr(addr, ':');
        if (colon == NULL)
            return MC_ERR_INVALID;
        hl = (size_t)(colon - addr);
        if (hl >= sizeof(host))
            return MC_ERR_INVALID;
        memcpy(host, addr, hl);
        port = colon + 1;
    }
    host[hl] = '\0';
    char *end = NULL;
    errno = 0;
    long p = strtol(port, &end, 10);
    if (port[0] == '\0' || end == NULL || *end != '\0' || errno != 0 || p < 0 || p > 65535)
        return MC_ERR_INVALID;

    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    /* ":port" means every interface, as Go reads challtestsrv's flags; IPv4 here. */
    if (getaddrinfo(hl > 0 ? host : "0.0.0.0", port, &hints, &res) != 0 || res == NULL)
        return MC_ERR_INVALID;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sslen = res->ai_addrlen;
    freeaddrinfo(res);
    return MC_OK;
}

static void dns_set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static int dns_socket(const struct sockaddr_storage *ss, socklen_t sslen, int type)
{
    int fd = socket(ss->ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (type == SOCK_DGRAM) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
        /* A deeper queue absorbs bursts from load generators. */
        int rcv = 1 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    }
    if (ss->ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)ss, sslen) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (type == SOCK_STREAM && listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* ---- UDP --------------------------------------------------------------------------- */

static void dns_udp_send_one(int fd, const uint8_t *wire, size_t len,
                             const struct sockaddr_storage *peer, socklen_t peerlen)
{
    /* UDP is best effort: a full socket buffer loses the answer, as the network would. */
    (void)sendto(fd, wire, len, MSG_DONTWAIT, (const struct sockaddr *)peer, peerlen);
}

static void dns_udp_park(struct dns_udp_worker *w, uint8_t *wire, size_t len, int64_t delay,
                         const struct sockaddr_storage *peer, socklen_t peerlen)
{
    if (w->ndelayed >= DNS_DELAY_QUEUE) {
        free(wire); /* the bound: a client flooding delayed names sees drops */
        return;
    }
    for (size_t i = 0; i < DNS_DELAY_QUEUE; i++) {
        struct dns_delayed *e = &w->delayed[i];
        if (e->wire == NULL) {
            e->due_ms = dns_now_ms() + delay;
            e->wire = wire;
            e->len = len;
            e->peer = *peer;
            e->peerlen = peerlen;
            w->ndelayed++;
            return;
        }
    }
    free(wire);
}

/* Sends the parked answers that are due; returns ms until the next one (or DNS_POLL_MS). */
static int dns_udp_service_delayed(struct dns_udp_worker *w)
{
    int wait = DNS_POLL_MS;
    if (w->ndelayed == 0)
        return wait;
    int64_t now = dns_now_ms();
    for (size_t i = 0; i < DNS_DELAY_QUEUE; i++) {
        struct dns_delayed *e = &w->delayed[i];
        if (e->wire == NULL)
            continue;
        if (e->due_ms <= now) {
            dns_udp_send_one(w->fd, e->wire, e->len, &e->peer, e->peerlen);
            free(e->wire);
            e->wire = NULL;
            w->ndelayed--;
        } else if (e->due_ms - now < wait) {
            wait = (int)(e->due_ms - now);
        }
    }
    return wait;
}

static void *dns_udp_main(void *arg)
{
    struct dns_udp_worker *w = arg;
    struct dns_server *s = w->s;
    /* One block for the batch, allocated at start: no allocation per packet other than
     * the answer itself. */
    uint8_t(*bufs)[DNS_UDP_BUF] = w->bufs;
    struct sockaddr_storage peers[DNS_UDP_BATCH];
    struct iovec iov[DNS_UDP_BATCH], oiov[DNS_UDP_BATCH];
    struct mmsghdr msgs[DNS_UDP_BATCH], omsgs[DNS_UDP_BATCH];
    uint8_t *answers[DNS_UDP_BATCH];

    bool idle = true;
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        int wait = dns_udp_service_delayed(w);
        /* Under load, read again at once; poll only once the socket ran dry. That saves a
         * syscall and often a sleep and wake-up per batch. */
        if (idle) {
            struct pollfd pfd = {.fd = w->fd, .events = POLLIN};
            if (poll(&pfd, 1, wait) <= 0)
                continue;
        }
        for (int i = 0; i < DNS_UDP_BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = DNS_UDP_BUF;
            memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
            msgs[i].msg_hdr.msg_name = &peers[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(peers[i]);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(w->fd, msgs, DNS_UDP_BATCH, MSG_DONTWAIT, NULL);
        idle = n <= 0;
        if (n <= 0)
            continue;
        int nout = 0;
        for (int i = 0; i < n; i++) {
            uint8_t *wire = NULL;
            size_t wlen = 0;
            int64_t delay = 0;
            char peer[INET6_ADDRSTRLEN];
            if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0)
                continue; /* over DNS_UDP_BUF: not a query we answer */
            dns_peer_text(&peers[i], peer, sizeof(peer));
            if (dns_handle_message(s->d, bufs[i], msgs[i].msg_len, false, peer, &wire, &wlen,
                                   &delay) != MC_OK ||
                wire == NULL)
                continue;
            if (delay > 0) {
                dns_udp_park(w, wire, wlen, delay, &peers[i], msgs[i].msg_hdr.msg_namelen);
                continue;
            }
            answers[nout] = wire;
            oiov[nout].iov_base = wire;
            oiov[nout].iov_len = wlen;
            memset(&omsgs[nout].msg_hdr, 0, sizeof(omsgs[nout].msg_hdr));
            omsgs[nout].msg_hdr.msg_name = &peers[i];
            omsgs[nout].msg_hdr.msg_namelen = msgs[i].msg_hdr.msg_namelen;
            omsgs[nout].msg_hdr.msg_iov = &oiov[nout];
            omsgs[nout].msg_hdr.msg_iovlen = 1;
            nout++;
        }
        int sent = 0;
        /* sendmmsg may stop early (a full buffer, an unreachable peer): skip that one. */
        while (sent < nout) {
            int r = sendmmsg(w->fd, omsgs + sent, (unsigned)(nout - sent), MSG_DONTWAIT);
            sent += r > 0 ? r : 1;
        }
        for (int i = 0; i < nout; i++)
            free(answers[i]);
    }
    for (size_t i = 0; i < DNS_DELAY_QUEUE; i++) {
        free(w->delayed[i].wire);
        w->delayed[i].wire = NULL;
    }
    w->ndelayed = 0;
    return NULL;
}

/* ---- TCP --------------------------------------------------------------------------- */

/* Reads exactly n bytes within deadline_ms (absolute), giving up on stop. 1: done;
 * 0: the peer closed before the first byte; -1: error, timeout or stop. */
static int dns_tcp_read(struct dns_server *s, int fd, uint8_t *buf, size_t n, int64_t deadline)
{
    size_t got = 0;
    while (got < n) {
        if (atomic_load_explicit(&s->stop, memory_order_relaxed))
            return -1;
        int64_t left = deadline - dns_now_ms();
        if (left <= 0)
            return -1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, left < DNS_POLL_MS ? (int)left : DNS_POLL_MS);
        if (pr < 0 && errno != EINTR)
            return -1;
        if (pr <= 0)
            continue;
        ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r == 0)
            return got == 0 ? 0 : -1;
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)r;
    }
    return 1;
}

static int dns_tcp_write(struct dns_server *s, int fd, const uint8_t *buf, size_t n)
{
    size_t off = 0;
    int64_t deadline = dns_now_ms() + DNS_TCP_WRITE_MS;
    while (off < n) {
        if (atomic_load_explicit(&s->stop, memory_order_relaxed) || dns_now_ms() > deadline)
            return -1;
        ssize_t r = send(fd, buf + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r < 0) {
            if (errno != EAGAIN && errno != EINTR)
                return -1;
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            (void)poll(&pfd, 1, DNS_POLL_MS);
            continue;
        }
        off += (size_t)r;
    }
    return 0;
}

/* Sleeps ms in slices so a stop is not held up by a long delay fault. */
static void dns_sleep_ms(struct dns_server *s, int64_t ms)
{
    int64_t end = dns_now_ms() + ms;
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        int64_t left = end - dns_now_ms();
        if (left <= 0)
            break;
        struct timespec ts = {.tv_sec = 0,
                              .tv_nsec = (left < DNS_POLL_MS ? left : DNS_POLL_MS) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void *dns_tcp_main(void *arg)
{
    struct dns_tcp_conn *c = arg;
    struct dns_server *s = c->s;
    uint8_t *msg = NULL;
    uint8_t *ans = NULL;
    for (;;) {
        uint8_t hdr[2];
        /* RFC 7766 section 6.2.3: idle connections are closed by the server. */
        int r = dns_tcp_read(s, c->fd, hdr, 2, dns_now_ms() + DNS_TCP_IDLE_MS);
        if (r <= 0)
            break;
        size_t len = (size_t)((hdr[0] << 8) | hdr[1]);
        if (len == 0)
            break;
        msg = malloc(len);
        if (msg == NULL)
            break;
        if (dns_tcp_read(s, c->fd, msg, len, dns_now_ms() + DNS_TCP_READ_MS) != 1)
            break;
        size_t alen = 0;
        int64_t delay = 0;
        if (dns_handle_message(s->d, msg, len, true, c->peer, &ans, &alen, &delay) != MC_OK)
            break;
        free(msg);
        msg = NULL;
        if (ans == NULL)
            continue; /* a dropped query: the client times out, the connection stays */
        if (delay > 0)
            dns_sleep_ms(s, delay);
        uint8_t pre[2] = {(uint8_t)(alen >> 8), (uint8_t)alen};
        if (alen > 65535 || dns_tcp_write(s, c->fd, pre, 2) != 0 ||
            dns_tcp_write(s, c->fd, ans, alen) != 0)
            break;
        free(ans);
        ans = NULL;
    }
    free(msg);
    free(ans);
    close(c->fd);
    c->fd = -1;
    atomic_store(&c->finished, true);
    return NULL;
}

/* Joins connection threads that have returned, freeing their slots. */
static void dns_tcp_reap(struct dns_server *s, bool all)
{
    for (size_t i = 0; i < DNS_TCP_MAX_CONNS; i++) {
        struct dns_tcp_conn *c = &s->conns[i];
        pthread_mutex_lock(&s->lock);
        bool used = c->used;
        pthread_mutex_unlock(&s->lock);
        if (!used || (!all && !atomic_load(&c->finished)))
            continue;
        pthread_join(c->th, NULL);
        pthread_mutex_lock(&s->lock);
        c->used = false;
        pthread_mutex_unlock(&s->lock);
    }
}

/* A free connection slot, marked used; NULL when all are taken. */
static struct dns_tcp_conn *dns_tcp_slot(struct dns_server *s)
{
    struct dns_tcp_conn *c = NULL;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < DNS_TCP_MAX_CONNS && c == NULL; i++) {
        if (!s->conns[i].used) {
            c = &s->conns[i];
            c->used = true;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return c;
}

static void *dns_tcp_accept_main(void *arg)
{
    struct dns_server *s = arg;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, DNS_THREAD_STACK);
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        dns_tcp_reap(s, false);
        struct pollfd pfd = {.fd = s->tcp_fd, .events = POLLIN};
        if (poll(&pfd, 1, DNS_POLL_MS) <= 0)
            continue;
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        int fd = accept4(s->tcp_fd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            continue;
        struct dns_tcp_conn *c = dns_tcp_slot(s);
        if (c == NULL) {
            /* Connections may have ended since the last reap. */
            dns_tcp_reap(s, false);
            c = dns_tcp_slot(s);
        }
        if (c == NULL) {
            /* Over the bound: accept and close, so the client fails fast (RFC 7766
             * section 6.2.2 lets a server limit its connections). */
            close(fd);
            continue;
        }
        c->s = s;
        c->fd = fd;
        atomic_store(&c->finished, false);
        dns_peer_text(&peer, c->peer, sizeof(c->peer));
        if (pthread_create(&c->th, &attr, dns_tcp_main, c) != 0) {
            close(fd);
            pthread_mutex_lock(&s->lock);
            c->used = false;
            pthread_mutex_unlock(&s->lock);
        }
    }
    pthread_attr_destroy(&attr);
    return NULL;
}

/* ---- start and stop ---------------------------------------------------------------- */

static void dns_close_sockets(struct dns_server *s)
{
    for (unsigned i = 0; i < DNS_UDP_MAX_THREADS; i++) {
        if (s->udp[i].fd >= 0)
            close(s->udp[i].fd);
        s->udp[i].fd = -1;
    }
    if (s->tcp_fd >= 0)
        close(s->tcp_fd);
    s->tcp_fd = -1;
}

/* Binds every UDP socket and the TCP listener on one port. */
static enum mc_err dns_bind_all(struct dns_server *s, struct sockaddr_storage *ss, socklen_t sslen)
{
    bool pick = (ss->ss_family == AF_INET ? ((struct sockaddr_in *)ss)->sin_port
                                          : ((struct sockaddr_in6 *)ss)->sin6_port) == 0;
    for (int attempt = 0; attempt < (pick ? DNS_PORT_TRIES : 1); attempt++) {
        if (pick)
            dns_set_port(ss, 0);
        s->udp[0].fd = dns_socket(ss, sslen, SOCK_DGRAM);
        if (s->udp[0].fd < 0)
            return MC_ERR_IO;
        struct sockaddr_storage got;
        socklen_t glen = sizeof(got);
        if (getsockname(s->udp[0].fd, (struct sockaddr *)&got, &glen) != 0) {
            dns_close_sockets(s);
            return MC_ERR_IO;
        }
        uint16_t port = ntohs(got.ss_family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port
                                                       : ((struct sockaddr_in6 *)&got)->sin6_port);
        dns_set_port(ss, port);
        bool ok = true;
        for (unsigned i = 1; i < s->nudp && ok; i++) {
            s->udp[i].fd = dns_socket(ss, sslen, SOCK_DGRAM);
            ok = s->udp[i].fd >= 0;
        }
        if (ok) {
            s->tcp_fd = dns_socket(ss, sslen, SOCK_STREAM);
            ok = s->tcp_fd >= 0;
        }
        if (ok) {
            s->port = port;
            return MC_OK;
        }
        int e = errno;
        dns_close_sockets(s);
        errno = e;
        if (e != EADDRINUSE)
            return MC_ERR_IO;
    }
    return MC_ERR_IO;
}

enum mc_err dns_server_start(struct dnsmock *d, const char *addr, unsigned udp_threads,
                             struct dns_server **out)
{
    struct dns_server *s = NULL;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    enum mc_err err = dns_parse_addr(addr, &ss, &sslen);
    if (err != MC_OK)
        return err;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return MC_ERR_NOMEM;
    s->d = d;
    s->nudp = udp_threads == 0
                  ? 1
                  : (udp_threads > DNS_UDP_MAX_THREADS ? DNS_UDP_MAX_THREADS : udp_threads);
    s->tcp_fd = -1;
    atomic_init(&s->stop, false);
    pthread_mutex_init(&s->lock, NULL);
    for (unsigned i = 0; i < DNS_UDP_MAX_THREADS; i++)
        s->udp[i].fd = -1;
    for (size_t i = 0; i < DNS_TCP_MAX_CONNS; i++)
        s->conns[i].fd = -1;
    err = dns_bind_all(s, &ss, sslen);
    if (err != MC_OK)
        goto fail;

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, DNS_THREAD_STACK);
    for (unsigned i = 0; i < s->nudp; i++) {
        struct dns_udp_worker *w = &s->udp[i];
        w->s = s;
        w->delayed = calloc(DNS_DELAY_QUEUE, sizeof(*w->delayed));
        w->bufs = malloc(DNS_UDP_BATCH * sizeof(*w->bufs));
        if (w->delayed == NULL || w->bufs == NULL) {
            err = MC_ERR_NOMEM;
            break;
        }
        if (pthread_create(&w->th, &attr, dns_udp_main, w) != 0) {
            err = MC_ERR_NOMEM;
            break;
        }
        w->started = true;
    }
    if (err == MC_OK) {
        if (pthread_create(&s->acceptor, &attr, dns_tcp_accept_main, s) != 0)
            err = MC_ERR_NOMEM;
        else
            s->acceptor_started = true;
    }
    pthread_attr_destroy(&attr);
    if (err != MC_OK)
        goto fail;
    log_msg(LOGL_INFO, "dns.listen", "addr=%s port=%u udp_threads=%u", addr, (unsigned)s->port,
            s->nudp);
    *out = s;
    return MC_OK;
fail:
    dns_server_stop(s);
    return err;
}

uint16_t dns_server_port(const struct dns_server *s)
{
    return s != NULL ? s->port : 0;
}

void dns_server_stop(struct dns_server *s)
{
    if (s == NULL)
        return;
    atomic_store(&s->stop, true);
    /* Every thread polls with DNS_POLL_MS timeouts and checks stop, so these joins end
     * within a few hundred milliseconds. */
    for (unsigned i = 0; i < DNS_UDP_MAX_THREADS; i++) {
        if (s->udp[i].started)
            pthread_join(s->udp[i].th, NULL);
        free(s->udp[i].delayed);
        free(s->udp[i].bufs);
    }
    if (s->acceptor_started)
        pthread_join(s->acceptor, NULL);
    dns_tcp_reap(s, true);
    dns_close_sockets(s);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
