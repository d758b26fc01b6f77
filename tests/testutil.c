#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>

struct growbuf {
    char *p;
    size_t n;
};

static size_t tu_collect(char *data, size_t size, size_t nmemb, void *arg)
{
    struct growbuf *b = arg;
    size_t add = size * nmemb;
    char *np = realloc(b->p, b->n + add + 1);
    if (np == NULL)
        return 0;
    memcpy(np + b->n, data, add);
    b->n += add;
    np[b->n] = '\0';
    b->p = np;
    return add;
}

int tu_http(const char *method, const char *url, const char *body, const char *const *hdrs,
            const char *ca_file, struct tu_http *out)
{
    struct growbuf bodybuf = {0}, hdrbuf = {0};
    struct curl_slist *list = NULL;
    int rc = -1;
    CURL *c = curl_easy_init();
    memset(out, 0, sizeof(*out));
    if (c == NULL)
        return -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tu_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &bodybuf);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, tu_collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdrbuf);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    for (size_t i = 0; hdrs != NULL && hdrs[i] != NULL; i++)
        list = curl_slist_append(list, hdrs[i]);
    if (list != NULL)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    if (ca_file != NULL) {
        curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
    } else {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
        out->body = bodybuf.p != NULL ? bodybuf.p : strdup("");
        out->body_len = bodybuf.n;
        out->headers = hdrbuf.p != NULL ? hdrbuf.p : strdup("");
        bodybuf.p = hdrbuf.p = NULL;
        rc = 0;
    }
    free(bodybuf.p);
    free(hdrbuf.p);
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    return rc;
}

void tu_http_free(struct tu_http *r)
{
    if (r == NULL)
        return;
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof(*r));
}

long tu_post_json(const char *base, const char *path, const char *json, char **out_body)
{
    char url[512];
    struct tu_http r;
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    snprintf(url, sizeof(url), "%s%s", base, path);
    if (tu_http("POST", url, json, hdrs, NULL, &r) != 0)
        return -1;
    long status = r.status;
    if (out_body != NULL) {
        *out_body = r.body;
        r.body = NULL;
    }
    tu_http_free(&r);
    return status;
}

char *tu_http_header(const struct tu_http *r, const char *name)
{
    size_t nl = strlen(name);
    const char *p = r->headers;
    while (p != NULL && *p != '\0') {
        const char *eol = strstr(p, "\r\n");
        size_t linelen = eol != NULL ? (size_t)(eol - p) : strlen(p);
        if (linelen > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            return strndup(v, linelen - (size_t)(v - p));
        }
        p = eol != NULL ? eol + 2 : NULL;
    }
    return NULL;
}

ldns_pkt *tu_dns_query(uint16_t port, const char *name, ldns_rr_type type, bool tcp)
{
    ldns_resolver *res = ldns_resolver_new();
    ldns_rdf *ns = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "127.0.0.1");
    ldns_rdf *dname = ldns_dname_new_frm_str(name);
    ldns_pkt *p = NULL;
    struct timeval tv = {2, 0};
    if (res == NULL || ns == NULL || dname == NULL)
        goto out;
    if (ldns_resolver_push_nameserver(res, ns) != LDNS_STATUS_OK)
        goto out;
    ldns_resolver_set_port(res, port);
    ldns_resolver_set_usevc(res, tcp);
    ldns_resolver_set_fallback(res, false);
    ldns_resolver_set_retry(res, 1);
    ldns_resolver_set_timeout(res, tv);
    ldns_resolver_set_recursive(res, false);
    if (ldns_resolver_send(&p, res, dname, type, LDNS_RR_CLASS_IN, 0) != LDNS_STATUS_OK)
        p = NULL;
out:
    ldns_rdf_deep_free(ns);
    ldns_rdf_deep_free(dname);
    ldns_resolver_deep_free(res);
    return p;
}

uint8_t *tu_dns_raw_udp(uint16_t port, const uint8_t *msg, size_t len, size_t *outlen)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    uint8_t buf[65536];
    uint8_t *out = NULL;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return NULL;
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (sendto(fd, msg, len, 0, (struct sockaddr *)&sa, sizeof(sa)) == (ssize_t)len) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 1000) == 1) {
            ssize_t n = recv(fd, buf, sizeof(buf), 0);
            if (n >= 0 && (out = malloc((size_t)n + 1)) != NULL) {
                memcpy(out, buf, (size_t)n);
                *outlen = (size_t)n;
            }
        }
    }
    close(fd);
    return out;
}

static void tu_port0(struct dnsmock_config *cfg)
{
    dnsmock_config_init(cfg);
    cfg->dns_addr = "127.0.0.1:0";
    cfg->mgmt_addr = "127.0.0.1:0";
    cfg->http01_addr = "127.0.0.1:0";
    cfg->tlsalpn01_addr = "127.0.0.1:0";
    cfg->https01_addr = "127.0.0.1:0";
    cfg->udp_threads = 1;
}

struct dnsmock *tu_dnsmock_start_with(void (*adjust)(struct dnsmock_config *cfg, void *arg),
                                      void *arg)
{
    struct dnsmock_config cfg;
    struct dnsmock *d = NULL;
    tu_port0(&cfg);
    if (adjust != NULL)
        adjust(&cfg, arg);
    enum mc_err err = dnsmock_start(&cfg, &d);
    ck_assert_msg(err == MC_OK, "dnsmock_start: %s", mc_strerror(err));
    return d;
}

struct dnsmock *tu_dnsmock_start(void)
{
    return tu_dnsmock_start_with(NULL, NULL);
}

char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/mctest.XXXXXX", base != NULL ? base : "/tmp");
    if (mkdtemp(path) == NULL)
        return NULL;
    return strdup(path);
}

int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
