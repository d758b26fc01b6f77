/* mockca/fetch.c: a small, strict HTTP/1.1 client (see fetch.h). One request per
 * connection, no pooling: mockca's outbound requests go to a new host each time (the VA)
 * or are rare (fileauth.txt, run's set-up calls), and a fresh connection per request is
 * what a CA's VA does anyway. */
#include "mockca/fetch.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/log.h"

#define FETCH_IOBUF 16384        /* one read from the socket or the TLS layer */
#define FETCH_INTERIM_MAX 4      /* 1xx answers skipped before the final one */
#define FETCH_CHUNK_LINE_MAX 256 /* "1a2b;ext=..." in a chunked body */

/* ---- URLs --------------------------------------------------------------------------- */

static bool fetch_host_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '-' || ch == '.' || ch == '_';
}

enum mc_err fetch_url_parse(const char *url, struct fetch_url *out)
{
    const char *p, *auth_end, *q, *frag;
    size_t n, hl, pl;

    memset(out, 0, sizeof(*out));
    if (url == NULL)
        return MC_ERR_INVALID;
    n = strnlen(url, FETCH_URL_MAX + 1);
    if (n > FETCH_URL_MAX)
        return MC_ERR_TOO_BIG;
    /* Only printable ASCII: a space, a control byte or UTF-8 has no place in a URL on the
     * wire (a Location with them would have to be percent-encoded by its sender). */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] < 0x21 || (unsigned char)url[i] > 0x7e)
            return MC_ERR_INVALID;
    if (strncasecmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        out->https = true;
        p = url + 8;
    } else {
        return MC_ERR_INVALID;
    }
    auth_end = p + strcspn(p, "/?#");
    /* Userinfo is refused, not ignored: "http://good@evil/" must not fetch from evil
     * while a log line reads "good". */
    if (memchr(p, '@', (size_t)(auth_end - p)) != NULL)
        return MC_ERR_INVALID;
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(auth_end - p));
        struct in6_addr a6;
        if (close == NULL)
            return MC_ERR_INVALID;
        hl = (size_t)(close - p - 1);
        if (hl == 0 || hl >= INET6_ADDRSTRLEN)
            return MC_ERR_INVALID;
        memcpy(out->host, p + 1, hl);
        out->host[hl] = '\0';
        if (inet_pton(AF_INET6, out->host, &a6) != 1) /* also refuses a "%zone" */
            return MC_ERR_INVALID;
        out->host_is_ip = true;
        q = close + 1;
    } else {
        struct in_addr a4;
        bool digits_only = true;
        q = memchr(p, ':', (size_t)(auth_end - p));
        if (q == NULL)
            q = auth_end;
        hl = (size_t)(q - p);
        if (hl == 0)
            return MC_ERR_INVALID;
        if (hl > 253)
            return MC_ERR_TOO_BIG;
        for (size_t i = 0; i < hl; i++) {
            if (!fetch_host_char(p[i]))
                return MC_ERR_INVALID;
            if (!isdigit((unsigned char)p[i]) && p[i] != '.')
                digits_only = false;
            /* No empty label: ".x", "x..y" (a single trailing dot is the root). */
            if (p[i] == '.' && (i == 0 || p[i - 1] == '.'))
                return MC_ERR_INVALID;
        }
        memcpy(out->host, p, hl);
        out->host[hl] = '\0';
        if (inet_pton(AF_INET, out->host, &a4) == 1)
            out->host_is_ip = true;
        else if (digits_only) /* "1.2.3", "010.1.1.1": not a literal, not a name either */
            return MC_ERR_INVALID;
    }
    if (q < auth_end) {
        unsigned long v = 0;
        size_t digits = (size_t)(auth_end - q - 1);
        if (*q != ':' || digits == 0 || digits > 5)
            return MC_ERR_INVALID;
        for (size_t i = 1; i <= digits; i++) {
            if (!isdigit((unsigned char)q[i]))
                return MC_ERR_INVALID;
            v = v * 10 + (unsigned long)(q[i] - '0');
        }
        if (v < 1 || v > 65535)
            return MC_ERR_INVALID;
        out->port = (uint16_t)v;
        out->port_given = true;
    } else {
        out->port = out->https ? 443 : 80;
    }
    /* Path and query; the fragment is the client's business and never goes on the wire. */
    frag = strchr(auth_end, '#');
    pl = frag != NULL ? (size_t)(frag - auth_end) : strlen(auth_end);
    if (pl == 0 || auth_end[0] == '?') {
        out->target[0] = '/';
        memcpy(out->target + 1, auth_end, pl);
        out->target[pl + 1] = '\0';
    } else {
        memcpy(out->target, auth_end, pl);
        out->target[pl] = '\0';
    }
    return MC_OK;
}

/* RFC 3986 section 5.2.4, over a path without query: "." and ".." segments removed,
 * in place. A ".." above the root stays at the root. */
static void fetch_remove_dots(char *path)
{
    char *in = path, *o = path;
    while (*in != '\0') {
        /* in always starts at a '/' here (the path is absolute). */
        char *next = strchr(in + 1, '/');
        size_t sl = next != NULL ? (size_t)(next - in) : strlen(in);
        if (sl == 2 && in[1] == '.') {
            in += 2;
            if (*in == '\0')
                *o++ = '/';
            continue;
        }
        if (sl == 3 && in[1] == '.' && in[2] == '.') {
            while (o > path && *--o != '/')
                ;
            in += 3;
            if (*in == '\0')
                *o++ = '/';
            continue;
        }
        memmove(o, in, sl);
        o += sl;
        in += sl;
    }
    if (o == path)
        *o++ = '/';
    *o = '\0';
}

enum mc_err fetch_url_join(const char *base, const char *ref, char **out)
{
    struct fetch_url bu;
    const char *auth, *auth_end, *bq;
    char *buf = NULL, *path = NULL;
    size_t olen, rl, bl;
    enum mc_err e;

    *out = NULL;
    if (base == NULL || ref == NULL)
        return MC_ERR_INVALID;
    rl = strnlen(ref, FETCH_URL_MAX + 1);
    if (rl > FETCH_URL_MAX)
        return MC_ERR_TOO_BIG;
    e = fetch_url_parse(base, &bu);
    if (e != MC_OK)
        return e;
    /* An absolute reference: a scheme is ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":". */
    if (isalpha((unsigned char)ref[0])) {
        size_t s = strspn(ref, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
        if (ref[s] == ':') {
            buf = strdup(ref);
            if (buf == NULL)
                return MC_ERR_NOMEM;
            goto check;
        }
    }
    auth = strstr(base, "://") + 3; /* fetch_url_parse found it */
    auth_end = auth + strcspn(auth, "/?#");
    bl = strlen(base);
    buf = malloc(bl + rl + 4);
    path = malloc(bl + rl + 4);
    if (buf == NULL || path == NULL) {
        e = MC_ERR_NOMEM;
        goto out;
    }
    if (ref[0] == '/' && ref[1] == '/') { /* network-path: the base's scheme only */
        snprintf(buf, bl + rl + 4, "%s:%s", bu.https ? "https" : "http", ref);
        goto check;
    }
    /* The base's path without its query: the target up to '?'. */
    bq = strchr(bu.target, '?');
    if (ref[0] == '\0' || ref[0] == '#' || ref[0] == '?') {
        size_t tl = bq != NULL && ref[0] == '?' ? (size_t)(bq - bu.target) : strlen(bu.target);
        snprintf(buf, bl + rl + 4, "%.*s%.*s%s", (int)(auth_end - base), base, (int)tl, bu.target,
                 ref[0] == '?' ? ref : "");
        goto check;
    }
    if (ref[0] == '/') {
        snprintf(path, bl + rl + 4, "%s", ref);
    } else {
        /* Merge (section 5.2.3): the base path up to its last '/', then the reference. */
        size_t pl = bq != NULL ? (size_t)(bq - bu.target) : strlen(bu.target);
        while (pl > 0 && bu.target[pl - 1] != '/')
            pl--;
        snprintf(path, bl + rl + 4, "%.*s%s", (int)pl, bu.target, ref);
    }
    {
        /* Dots come out of the path part only, not out of a query or fragment. */
        size_t ql = strcspn(path, "?#");
        char keep = path[ql];
        char *tail = NULL;
        if (keep != '\0') {
            tail = strdup(path + ql);
            if (tail == NULL) {
                e = MC_ERR_NOMEM;
                goto out;
            }
            path[ql] = '\0';
        }
        fetch_remove_dots(path);
        snprintf(buf, bl + rl + 4, "%.*s%s%s", (int)(auth_end - base), base, path,
                 tail != NULL ? tail : "");
        free(tail);
    }
check:
    olen = strlen(buf);
    if (olen > FETCH_URL_MAX) {
        e = MC_ERR_TOO_BIG;
        goto out;
    }
    e = fetch_url_parse(buf, &bu);
    if (e != MC_OK)
        goto out;
    *out = buf;
    buf = NULL;
out:
    free(buf);
    free(path);
    return e;
}

/* ---- connection --------------------------------------------------------------------- */

struct fetch_conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    int64_t deadline; /* monotonic ms */
    int64_t timeout_ms;
    struct fetch_response *resp; /* for its err */
    size_t pos, len;
    bool eof;
    char buf[FETCH_IOBUF];
};

/* Monotonic: a deadline must not move when the wall clock, or the CA's virtual clock,
 * does (common/clock.h is epoch time, which may be frozen or advanced by a test). */
static int64_t fetch_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fetch_left_ms(const struct fetch_conn *c)
{
    int64_t left = c->deadline - fetch_now_ms();
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

static void fetch_fail(struct fetch_response *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fetch_fail(struct fetch_response *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
}

/* Waits for events on c->fd until the deadline. MC_OK when ready, MC_ERR_TIMEOUT (with the
 * message naming what was being done), MC_ERR_IO. */
static enum mc_err fetch_wait(struct fetch_conn *c, short events, const char *doing)
{
    struct pollfd pfd;
    int rc;
    for (;;) {
        int left = fetch_left_ms(c);
        if (left == 0) {
            fetch_fail(c->resp, "timed out after %lld ms %s", (long long)c->timeout_ms, doing);
            return MC_ERR_TIMEOUT;
        }
        pfd.fd = c->fd;
        pfd.events = events;
        pfd.revents = 0;
        rc = poll(&pfd, 1, left);
        if (rc > 0)
            return MC_OK; /* POLLERR/POLLHUP too: the next call reports what happened */
        if (rc < 0 && errno != EINTR) {
            fetch_fail(c->resp, "poll %s: %s", doing, strerror(errno));
            return MC_ERR_IO;
        }
    }
}

static enum mc_err fetch_connect(struct fetch_conn *c, const char *addr, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t sl, el = sizeof(int);
    int rc, soerr = 0;
    enum mc_err e;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons(port);
        sl = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
        sl = sizeof(struct sockaddr_in6);
    } else {
        fetch_fail(c->resp, "address %s is not an IP literal", addr);
        return MC_ERR_INVALID;
    }
    c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        fetch_fail(c->resp, "socket: %s", strerror(errno));
        return MC_ERR_IO;
    }
    rc = connect(c->fd, (struct sockaddr *)&ss, sl);
    if (rc != 0 && errno != EINPROGRESS) {
        soerr = errno;
    } else if (rc != 0) {
        e = fetch_wait(c, POLLOUT, "connecting");
        if (e != MC_OK)
            return e;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &el) != 0)
            soerr = errno;
    }
    if (soerr != 0) {
        fetch_fail(c->resp, "connecting to %s port %u: %s", addr, (unsigned)port, strerror(soerr));
        return MC_ERR_IO;
    }
    return MC_OK;
}

/* The reason OpenSSL gives for the last failure, into buf; the queue is left empty. */
static void fetch_ssl_reason(int sslerr, char *buf, size_t n)
{
    unsigned long le = ERR_peek_last_error();
    if (le != 0)
        ERR_error_string_n(le, buf, n);
    else if (sslerr == SSL_ERROR_SYSCALL)
        snprintf(buf, n, "%s", errno != 0 ? strerror(errno) : "connection closed by the peer");
    else
        snprintf(buf, n, "TLS error %d", sslerr);
    ERR_clear_error();
}

static enum mc_err fetch_tls_start(struct fetch_conn *c, const struct fetch_url *u)
{
    char why[160];
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (c->ctx == NULL)
        goto crypto;
    /* No verification: Let's Encrypt's VA does not verify on an https redirect either,
     * and a client under test serves a self-signed certificate more often than not. */
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    /* A close without close_notify ends a read-to-close body; framing is checked by us. */
    SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    c->ssl = SSL_new(c->ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
        goto crypto;
    /* SNI carries names only (RFC 6066 section 3: "Literal IPv4 and IPv6 addresses are
     * not permitted"). */
    if (!u->host_is_ip && SSL_set_tlsext_host_name(c->ssl, u->host) != 1)
        goto crypto;
    for (;;) {
        int rc = SSL_connect(c->ssl), se;
        enum mc_err e;
        if (rc == 1)
            return MC_OK;
        se = SSL_get_error(c->ssl, rc);
        if (se != SSL_ERROR_WANT_READ && se != SSL_ERROR_WANT_WRITE) {
            fetch_ssl_reason(se, why, sizeof(why));
            fetch_fail(c->resp, "TLS handshake failed: %s", why);
            return MC_ERR_CRYPTO;
        }
        e = fetch_wait(c, se == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, "in the TLS handshake");
        if (e != MC_OK)
            return e;
    }
crypto:
    log_openssl_errors(LOGL_WARN, "fetch.tls_setup");
    fetch_fail(c->resp, "OpenSSL set-up failed");
    return MC_ERR_NOMEM;
}

static enum mc_err fetch_write_all(struct fetch_conn *c, const char *p, size_t n)
{
    while (n > 0) {
        size_t chunk = n > INT_MAX ? INT_MAX : n;
        short want = POLLOUT;
        enum mc_err e;
        if (c->ssl != NULL) {
            int rc = SSL_write(c->ssl, p, (int)chunk), se;
            if (rc > 0) {
                p += rc;
                n -= (size_t)rc;
                continue;
            }
            se = SSL_get_error(c->ssl, rc);
            if (se != SSL_ERROR_WANT_READ && se != SSL_ERROR_WANT_WRITE) {
                char why[160];
                fetch_ssl_reason(se, why, sizeof(why));
                fetch_fail(c->resp, "sending the request: %s", why);
                return MC_ERR_IO;
            }
            want = se == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        } else {
            /* MSG_NOSIGNAL: a peer that closed early is an error here, not a SIGPIPE. */
            ssize_t rc = send(c->fd, p, chunk, MSG_NOSIGNAL);
            if (rc > 0) {
                p += rc;
                n -= (size_t)rc;
                continue;
            }
            if (rc < 0 && errno == EINTR)
                continue;
            if (rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                fetch_fail(c->resp, "sending the request: %s", strerror(errno));
                return MC_ERR_IO;
            }
        }
        e = fetch_wait(c, want, "sending the request");
        if (e != MC_OK)
            return e;
    }
    return MC_OK;
}

/* Refills c->buf when it is used up. MC_OK with c->eof set at the end of the stream. */
static enum mc_err fetch_fill(struct fetch_conn *c)
{
    if (c->pos < c->len || c->eof)
        return MC_OK;
    c->pos = c->len = 0;
    for (;;) {
        short want = POLLIN;
        enum mc_err e;
        if (c->ssl != NULL) {
            int rc = SSL_read(c->ssl, c->buf, (int)sizeof(c->buf)), se;
            if (rc > 0) {
                c->len = (size_t)rc;
                return MC_OK;
            }
            se = SSL_get_error(c->ssl, rc);
            if (se == SSL_ERROR_ZERO_RETURN) {
                c->eof = true;
                return MC_OK;
            }
            if (se != SSL_ERROR_WANT_READ && se != SSL_ERROR_WANT_WRITE) {
                char why[160];
                fetch_ssl_reason(se, why, sizeof(why));
                fetch_fail(c->resp, "reading the answer: %s", why);
                return MC_ERR_IO;
            }
            want = se == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        } else {
            ssize_t rc = recv(c->fd, c->buf, sizeof(c->buf), 0);
            if (rc > 0) {
                c->len = (size_t)rc;
                return MC_OK;
            }
            if (rc == 0) {
                c->eof = true;
                return MC_OK;
            }
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                fetch_fail(c->resp, "reading the answer: %s", strerror(errno));
                return MC_ERR_IO;
            }
        }
        e = fetch_wait(c, want, "waiting for the answer");
        if (e != MC_OK)
            return e;
    }
}

/* ---- the answer --------------------------------------------------------------------- */

/* Reads one header block (a status line and fields up to the empty line) into head. */
static enum mc_err fetch_read_head(struct fetch_conn *c, char *head, size_t *hlen, bool first)
{
    size_t n = 0;
    bool line1 = true;
    for (;;) {
        char ch;
        enum mc_err e = fetch_fill(c);
        if (e != MC_OK)
            return e;
        if (c->eof) {
            if (n == 0 && first) {
                fetch_fail(c->resp, "the server closed the connection without answering");
                return MC_ERR_IO;
            }
            fetch_fail(c->resp, "malformed answer: the connection closed inside the header");
            return MC_ERR_INVALID;
        }
        ch = c->buf[c->pos++];
        if (ch == '\0') {
            fetch_fail(c->resp, "malformed answer: a NUL byte in the header");
            return MC_ERR_INVALID;
        }
        if (n >= FETCH_HEAD_MAX) {
            fetch_fail(c->resp, "the header block is over %d bytes", FETCH_HEAD_MAX);
            return MC_ERR_TOO_BIG;
        }
        head[n++] = ch;
        if (line1 && ch == '\n')
            line1 = false;
        if (line1 && n > FETCH_STATUS_MAX) {
            fetch_fail(c->resp, "the status line is over %d bytes", FETCH_STATUS_MAX);
            return MC_ERR_TOO_BIG;
        }
        /* The empty line: "\n\n" or "\n\r\n" (a bare LF is accepted as a line end, as
         * RFC 9112 section 2.2 allows a recipient to). */
        if (ch == '\n' && n >= 2 &&
            (head[n - 2] == '\n' || (n >= 3 && head[n - 2] == '\r' && head[n - 3] == '\n')))
            break;
    }
    head[n] = '\0';
    *hlen = n;
    return MC_OK;
}

static bool fetch_tchar(char ch)
{
    return isalnum((unsigned char)ch) || (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

struct fetch_framing {
    bool chunked;
    bool have_length;
    uint64_t length;
};

/* "HTTP/1.x SP 3DIGIT [SP reason]" (RFC 9112 section 4). */
static bool fetch_status_line(const char *line, int *status)
{
    if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) || line[8] != ' ')
        return false;
    for (int i = 9; i < 12; i++)
        if (!isdigit((unsigned char)line[i]))
            return false;
    if (line[12] != '\0' && line[12] != ' ')
        return false;
    *status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    return *status >= 100 && *status <= 599;
}

/* Parses a header block: the status, the framing and Location. head is modified. */
static enum mc_err fetch_parse_head(struct fetch_conn *c, char *head, struct fetch_framing *fr)
{
    struct fetch_response *r = c->resp;
    char *line = head, *next;
    bool first = true;

    memset(fr, 0, sizeof(*fr));
    for (; *line != '\0'; line = next) {
        char *nl = strchr(line, '\n'), *colon, *v, *end;
        next = nl + 1; /* fetch_read_head ends every line with '\n' */
        *nl = '\0';
        if (nl > line && nl[-1] == '\r')
            nl[-1] = '\0';
        if (first) {
            if (!fetch_status_line(line, &r->status)) {
                fetch_fail(r, "malformed status line \"%.60s\"", line);
                return MC_ERR_INVALID;
            }
            first = false;
            continue;
        }
        if (*line == '\0')
            break;
        /* Line folding is obsolete (RFC 9112 section 5.2) and a smuggling vector: refused. */
        colon = strchr(line, ':');
        if (colon == NULL || colon == line) {
            fetch_fail(r, "malformed header line \"%.60s\"", line);
            return MC_ERR_INVALID;
        }
        for (char *k = line; k < colon; k++)
            if (!fetch_tchar(*k)) {
                fetch_fail(r, "malformed header line \"%.60s\"", line);
                return MC_ERR_INVALID;
            }
        *colon = '\0';
        v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        end = v + strlen(v);
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        for (char *k = v; k < end; k++)
            if ((unsigned char)*k < 0x20 && *k != '\t') {
                fetch_fail(r, "a control byte in header %s", line);
                return MC_ERR_INVALID;
            }
        if (strcasecmp(line, "Content-Length") == 0) {
            uint64_t len = 0;
            size_t digits = strlen(v);
            if (digits == 0 || digits > 15 || strspn(v, "0123456789") != digits) {
                fetch_fail(r, "malformed Content-Length \"%.30s\"", v);
                return MC_ERR_INVALID;
            }
            for (size_t i = 0; i < digits; i++)
                len = len * 10 + (uint64_t)(v[i] - '0');
            if (fr->have_length && fr->length != len) {
                fetch_fail(r, "two different Content-Length values");
                return MC_ERR_INVALID;
            }
            fr->have_length = true;
            fr->length = len;
        } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
            /* Only chunked is decoded: mockca asks for no compression (no Accept-Encoding)
             * and a coding it cannot undo would hand the caller garbage. */
            if (strcasecmp(v, "chunked") != 0 || fr->chunked) {
                fetch_fail(r, "unsupported Transfer-Encoding \"%.40s\"", v);
                return MC_ERR_UNSUPPORTED;
            }
            fr->chunked = true;
        } else if (strcasecmp(line, "Location") == 0 && r->location == NULL) {
            if ((size_t)(end - v) > FETCH_URL_MAX) {
                fetch_fail(r, "the Location header is over %d bytes", FETCH_URL_MAX);
                return MC_ERR_TOO_BIG;
            }
            r->location = strdup(v);
            if (r->location == NULL) {
                fetch_fail(r, "out of memory");
                return MC_ERR_NOMEM;
            }
        }
    }
    return MC_OK;
}

/* Growable body with a hard cap: going over it is the error, never a truncation. */
struct fetch_body {
    char *d;
    size_t n, cap, max;
};

static enum mc_err fetch_body_add(struct fetch_conn *c, struct fetch_body *b, const char *p,
                                  size_t n)
{
    if (n > b->max - b->n) {
        fetch_fail(c->resp, "the body is larger than %zu bytes", b->max);
        c->resp->body_over_cap = true;
        return MC_ERR_TOO_BIG;
    }
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap != 0 ? b->cap : 1024;
        char *nd;
        while (nc < b->n + n + 1)
            nc *= 2;
        if (nc > b->max + 1)
            nc = b->max + 1;
        nd = realloc(b->d, nc);
        if (nd == NULL) {
            fetch_fail(c->resp, "out of memory");
            return MC_ERR_NOMEM;
        }
        b->d = nd;
        b->cap = nc;
    }
    memcpy(b->d + b->n, p, n);
    b->n += n;
    b->d[b->n] = '\0';
    return MC_OK;
}

/* Moves exactly want bytes (or, with to_eof, everything up to the end) into the body. */
static enum mc_err fetch_body_read(struct fetch_conn *c, struct fetch_body *b, uint64_t want,
                                   bool to_eof)
{
    while (to_eof || want > 0) {
        size_t take;
        enum mc_err e = fetch_fill(c);
        if (e != MC_OK)
            return e;
        if (c->eof) {
            if (to_eof)
                return MC_OK;
            fetch_fail(c->resp, "malformed answer: the body ends %llu bytes short",
                       (unsigned long long)want);
            return MC_ERR_INVALID;
        }
        take = c->len - c->pos;
        if (!to_eof && take > want)
            take = (size_t)want;
        e = fetch_body_add(c, b, c->buf + c->pos, take);
        if (e != MC_OK)
            return e;
        c->pos += take;
        want -= to_eof ? 0 : take;
    }
    return MC_OK;
}

/* One line of a chunked body (size line, CRLF after data, trailer line), without its end. */
static enum mc_err fetch_chunk_line(struct fetch_conn *c, char *line, size_t n)
{
    size_t k = 0;
    for (;;) {
        char ch;
        enum mc_err e = fetch_fill(c);
        if (e != MC_OK)
            return e;
        if (c->eof) {
            fetch_fail(c->resp, "malformed answer: the chunked body is cut short");
            return MC_ERR_INVALID;
        }
        ch = c->buf[c->pos++];
        if (ch == '\n')
            break;
        if (k + 1 >= n) {
            fetch_fail(c->resp, "malformed answer: a chunk line over %zu bytes", n - 1);
            return MC_ERR_INVALID;
        }
        line[k++] = ch;
    }
    if (k > 0 && line[k - 1] == '\r')
        k--;
    line[k] = '\0';
    return MC_OK;
}

/* RFC 9112 section 7.1: chunk-size [ext] CRLF data CRLF ... 0 CRLF trailers CRLF. */
static enum mc_err fetch_chunked(struct fetch_conn *c, struct fetch_body *b)
{
    char line[FETCH_CHUNK_LINE_MAX + 1];
    size_t trailer_bytes = 0;
    enum mc_err e;
    for (;;) {
        uint64_t size = 0;
        size_t digits;
        e = fetch_chunk_line(c, line, sizeof(line));
        if (e != MC_OK)
            return e;
        digits = strspn(line, "0123456789abcdefABCDEF");
        if (digits == 0 || (line[digits] != '\0' && line[digits] != ';' && line[digits] != ' ' &&
                            line[digits] != '\t')) {
            fetch_fail(c->resp, "malformed chunk size \"%.30s\"", line);
            return MC_ERR_INVALID;
        }
        if (digits > 15) { /* over any cap we have, and safe from overflow below */
            fetch_fail(c->resp, "the body is larger than %zu bytes", b->max);
            c->resp->body_over_cap = true;
            return MC_ERR_TOO_BIG;
        }
        for (size_t i = 0; i < digits; i++) {
            char h = line[i];
            size = size * 16 + (uint64_t)(isdigit((unsigned char)h)
                                              ? h - '0'
                                              : tolower((unsigned char)h) - 'a' + 10);
        }
        if (size == 0)
            break;
        if (size > b->max - b->n) {
            fetch_fail(c->resp, "the body is larger than %zu bytes", b->max);
            c->resp->body_over_cap = true;
            return MC_ERR_TOO_BIG;
        }
        e = fetch_body_read(c, b, size, false);
        if (e != MC_OK)
            return e;
        e = fetch_chunk_line(c, line, sizeof(line));
        if (e != MC_OK)
            return e;
        if (line[0] != '\0') {
            fetch_fail(c->resp, "malformed answer: no CRLF after a chunk");
            return MC_ERR_INVALID;
        }
    }
    /* Trailers: read and dropped, bounded like a header block. */
    for (;;) {
        e = fetch_chunk_line(c, line, sizeof(line));
        if (e != MC_OK)
            return e;
        if (line[0] == '\0')
            return MC_OK;
        trailer_bytes += strlen(line) + 2;
        if (trailer_bytes > FETCH_HEAD_MAX) {
            fetch_fail(c->resp, "the trailer block is over %d bytes", FETCH_HEAD_MAX);
            return MC_ERR_TOO_BIG;
        }
    }
}

/* ---- the request -------------------------------------------------------------------- */

static bool fetch_header_value_ok(const char *v)
{
    for (; *v != '\0'; v++)
        if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e)
            return false;
    return true;
}

static enum mc_err fetch_build_request(const struct fetch_request *req, const struct fetch_url *u,
                                       bool post, struct fetch_response *r, char **out,
                                       size_t *outlen)
{
    const char *ua = req->user_agent != NULL ? req->user_agent : FETCH_USER_AGENT;
    const char *ct = req->content_type != NULL ? req->content_type : "application/json";
    char hostport[FETCH_HOST_MAX + 16];
    bool default_port = u->port == (u->https ? 443 : 80);
    size_t cap;
    int n;

    *out = NULL;
    if (!fetch_header_value_ok(ua) || (post && !fetch_header_value_ok(ct)) || strlen(ua) > 256 ||
        strlen(ct) > 256) {
        fetch_fail(r, "a control byte or an over-long User-Agent or Content-Type");
        return MC_ERR_INVALID;
    }
    /* Host: the URL's authority, an IPv6 literal in brackets, the port when it is not the
     * scheme's (RFC 9110 section 7.2). */
    snprintf(hostport, sizeof(hostport), "%s%s%s", u->host_is_ip && strchr(u->host, ':') ? "[" : "",
             u->host, u->host_is_ip && strchr(u->host, ':') ? "]" : "");
    if (!default_port) {
        size_t hl = strlen(hostport);
        snprintf(hostport + hl, sizeof(hostport) - hl, ":%u", (unsigned)u->port);
    }
    cap = strlen(u->target) + strlen(hostport) + strlen(ua) + strlen(ct) + 256;
    *out = malloc(cap);
    if (*out == NULL) {
        fetch_fail(r, "out of memory");
        return MC_ERR_NOMEM;
    }
    if (post)
        n = snprintf(*out, cap,
                     "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n"
                     "Connection: close\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                     u->target, hostport, ua, ct, req->body != NULL ? req->body_len : 0);
    else
        n = snprintf(*out, cap,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n"
                     "Connection: close\r\n\r\n",
                     u->target, hostport, ua);
    if (n < 0 || (size_t)n >= cap) {
        free(*out);
        *out = NULL;
        fetch_fail(r, "request head does not fit");
        return MC_ERR_INVALID;
    }
    *outlen = (size_t)n;
    return MC_OK;
}

static enum mc_err fetch_exchange(const struct fetch_request *req, struct fetch_conn *c)
{
    struct fetch_response *r = c->resp;
    struct fetch_url *u = NULL;
    struct fetch_framing fr;
    struct fetch_body b = {0};
    char *head = NULL, *reqtext = NULL;
    size_t hl = 0, reqlen = 0;
    bool post;
    enum mc_err e;

    u = malloc(sizeof(*u));
    head = malloc(FETCH_HEAD_MAX + 1);
    if (u == NULL || head == NULL) {
        fetch_fail(r, "out of memory");
        e = MC_ERR_NOMEM;
        goto out;
    }
    if (req->method == NULL || strcmp(req->method, "GET") == 0) {
        post = false;
    } else if (strcmp(req->method, "POST") == 0) {
        post = true;
    } else {
        fetch_fail(r, "method %.20s is not supported", req->method);
        e = MC_ERR_INVALID;
        goto out;
    }
    e = fetch_url_parse(req->url, u);
    if (e != MC_OK) {
        fetch_fail(r, "URL %.200s %s", req->url != NULL ? req->url : "(null)",
                   e == MC_ERR_TOO_BIG ? "is too long" : "does not parse");
        goto out;
    }
    if (req->addr == NULL && !u->host_is_ip) {
        fetch_fail(r, "no address given for %s (names are never resolved here)", u->host);
        e = MC_ERR_INVALID;
        goto out;
    }
    e = fetch_build_request(req, u, post, r, &reqtext, &reqlen);
    if (e != MC_OK)
        goto out;
    e = fetch_connect(c, req->addr != NULL ? req->addr : u->host, u->port);
    if (e != MC_OK)
        goto out;
    if (u->https) {
        e = fetch_tls_start(c, u);
        if (e != MC_OK)
            goto out;
    }
    e = fetch_write_all(c, reqtext, reqlen);
    if (e == MC_OK && post && req->body != NULL && req->body_len > 0)
        e = fetch_write_all(c, req->body, req->body_len);
    if (e != MC_OK)
        goto out;
    for (int i = 0;; i++) {
        e = fetch_read_head(c, head, &hl, i == 0);
        if (e != MC_OK)
            goto out;
        free(r->location);
        r->location = NULL;
        e = fetch_parse_head(c, head, &fr);
        if (e != MC_OK)
            goto out;
        if (r->status >= 200)
            break;
        /* 101 would switch protocols, which we never asked for. */
        if (r->status == 101 || i >= FETCH_INTERIM_MAX) {
            fetch_fail(r, "unexpected interim status %d", r->status);
            e = MC_ERR_INVALID;
            goto out;
        }
    }
    b.max = req->body_max > 0 ? req->body_max : FETCH_BODY_MAX;
    e = fetch_body_add(c, &b, "", 0); /* an empty body is "" too, never NULL */
    if (e != MC_OK)
        goto out;
    /* RFC 9112 section 6.3: 204 and 304 have no body whatever the header says; a
     * chunked coding takes precedence over Content-Length. */
    if (r->status == 204 || r->status == 304) {
        e = MC_OK;
    } else if (fr.chunked) {
        e = fetch_chunked(c, &b);
    } else if (fr.have_length) {
        if (fr.length > b.max) {
            fetch_fail(r, "the body is larger than %zu bytes (Content-Length %llu)", b.max,
                       (unsigned long long)fr.length);
            r->body_over_cap = true;
            e = MC_ERR_TOO_BIG;
        } else {
            e = fetch_body_read(c, &b, fr.length, false);
        }
    } else {
        e = fetch_body_read(c, &b, 0, true);
    }
    if (e != MC_OK)
        goto out;
    r->body = b.d;
    r->body_len = b.n;
    b.d = NULL;
out:
    free(b.d);
    free(reqtext);
    free(head);
    free(u);
    return e;
}

enum mc_err fetch_do(const struct fetch_request *req, struct fetch_response *resp)
{
    struct fetch_conn *c = NULL;
    sigset_t pipe_set, old_set;
    bool masked = false;
    int64_t t;
    enum mc_err e;

    memset(resp, 0, sizeof(*resp));
    if (req == NULL) {
        fetch_fail(resp, "no request");
        return MC_ERR_INVALID;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        fetch_fail(resp, "out of memory");
        return MC_ERR_NOMEM;
    }
    c->fd = -1;
    c->resp = resp;
    t = req->timeout_ms > 0 ? req->timeout_ms : FETCH_TIMEOUT_MS;
    c->timeout_ms = t;
    c->deadline = fetch_now_ms() + t;
    /* OpenSSL writes to the socket with write(), which raises SIGPIPE on a peer that
     * reset; block it in this thread only, and swallow one left pending when done. */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    masked = pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set) == 0;
    ERR_clear_error(); /* SSL_get_error reads the queue: start from an empty one */
    e = fetch_exchange(req, c);
    if (e != MC_OK) { /* a half-read answer is no answer: only err and body_over_cap */
        free(resp->location);
        resp->location = NULL;
        resp->status = 0;
    }
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    if (c->fd >= 0)
        close(c->fd);
    free(c);
    if (masked) {
        struct timespec zero = {0, 0};
        sigset_t pending;
        if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1)
            (void)sigtimedwait(&pipe_set, NULL, &zero);
        pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    }
    return e;
}

void fetch_response_free(struct fetch_response *r)
{
    if (r == NULL)
        return;
    free(r->location);
    free(r->body);
    memset(r, 0, sizeof(*r));
}
